"""Representative days: a year of hourly data reduced to a few real calendar days (tsam medoids).

Extreme days named by the scenario are kept as days of their own; every calendar day is assigned
to one representative, whose weight is the number of days it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from planner.time.profiles import DAYS_PER_YEAR, HOURS_PER_DAY, HOURS_PER_YEAR, day_months, value_columns

# ----------------------------------------------------------------------------------------------
# Representative days
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RepresentativeDays:
    """A year of hourly data represented by a few real calendar days.

    Representatives are sorted chronologically (by ``day_of_year``) for every method.

    Parameters
    ----------
    data : dict of str to numpy.ndarray
        Column -> (n_days, 24) hourly values of the representative days [column unit].
    weight : numpy.ndarray of int
        (n_days,) calendar days each representative stands for [days]; sums to 365.
    day_of_year : numpy.ndarray of int
        (n_days,) calendar day 0..364 each representative is (the cluster medoid) [-].
    month : numpy.ndarray of int
        (n_days,) month 1..12 of that calendar day [-].
    assignment : numpy.ndarray of int
        (365,) index of the representative standing for each calendar day [-].
    method : str
        "tsam", "monthly" or "full" [-].
    extremes : dict of str to int, default {}
        ``"column:max"`` / ``"column:min"`` -> index of the representative holding that
        extreme hour of the year [-].
    """

    data: dict[str, np.ndarray]
    weight: np.ndarray
    day_of_year: np.ndarray
    month: np.ndarray
    assignment: np.ndarray
    method: str
    extremes: dict[str, int] = field(default_factory=dict)

    @property
    def n_days(self) -> int:
        """Number of representative days [-]."""
        return int(self.weight.size)

    def expand(self, column: str) -> np.ndarray:
        """Rebuild a full year of one column from the representatives.

        Parameters
        ----------
        column : str
            Column name [-].

        Returns
        -------
        numpy.ndarray of float64
            (8760,) hourly values, each calendar day replaced by its representative [column unit].
        """
        return np.asarray(self.data[column][self.assignment], dtype=float).reshape(-1)

    def aggregation_error(self, frame: pd.DataFrame, load_column: str | None = None) -> pd.DataFrame:
        """Error statistics of the representation against the actual year.

        Parameters
        ----------
        frame : pandas.DataFrame
            The 8760-row year the representatives were taken from [column units].
        load_column : str, optional
            If given (e.g. ``"inference_shape"``), add load-weighted means
            ``sum(load * x) / sum(load)`` of every column, actual and represented, and their
            error [column unit, %]; useful for e.g. the load-weighted grid emission factor.

        Returns
        -------
        pandas.DataFrame
            One row per column of ``data`` present in ``frame``, with ``annual_mean``,
            ``represented_mean`` [column unit], ``mean_error_pct`` [%], ``nrmse_pct``
            (RMSE of the rebuilt year vs. the actual one, divided by the actual range) [%],
            ``actual_max``, ``represented_max``, ``actual_min``, ``represented_min``
            [column unit] (and the load-weighted columns if requested).
        """
        if len(frame) != HOURS_PER_YEAR:
            raise ValueError(f"frame must have {HOURS_PER_YEAR} rows, got {len(frame)}")
        load_actual = load_rep = None
        if load_column is not None:
            load_actual = frame[load_column].to_numpy(dtype=float)
            load_rep = self.expand(load_column)
        records: dict[str, dict[str, float]] = {}
        for name in self.data:
            if name not in frame.columns:
                continue
            actual = frame[name].to_numpy(dtype=float)
            rebuilt = self.expand(name)
            mean_actual = float(actual.mean())
            mean_rep = float(np.sum(self.weight * self.data[name].mean(axis=1)) / DAYS_PER_YEAR)
            span = float(actual.max() - actual.min())
            rmse = float(np.sqrt(np.mean((rebuilt - actual) ** 2)))
            rec = {
                "annual_mean": mean_actual,
                "represented_mean": mean_rep,
                "mean_error_pct": _pct(mean_rep - mean_actual, mean_actual),
                "nrmse_pct": _pct(rmse, span),
                "actual_max": float(actual.max()),
                "represented_max": float(self.data[name].max()),
                "actual_min": float(actual.min()),
                "represented_min": float(self.data[name].min()),
            }
            if load_actual is not None and load_rep is not None:
                lw_actual = float(np.sum(load_actual * actual) / np.sum(load_actual))
                lw_rep = float(np.sum(load_rep * rebuilt) / np.sum(load_rep))
                rec["load_weighted_actual"] = lw_actual
                rec["load_weighted_represented"] = lw_rep
                rec["load_weighted_error_pct"] = _pct(lw_rep - lw_actual, lw_actual)
            records[name] = rec
        out = pd.DataFrame.from_dict(records, orient="index")
        out.index.name = "column"
        return out


def _pct(numerator: float, denominator: float) -> float:
    """100 * numerator / |denominator|; 0 if both are zero, NaN if only the denominator is."""
    if denominator == 0.0:
        return 0.0 if numerator == 0.0 else math.nan
    return 100.0 * numerator / abs(denominator)


def _normalised_features(
    days: Mapping[str, np.ndarray], columns: Sequence[str], weights: Mapping[str, float]
) -> np.ndarray:
    """(365, 24 * n_columns) min-max normalised, weighted day vectors (as tsam builds them)."""
    blocks = []
    for name in columns:
        block = days[name]
        low, high = float(block.min()), float(block.max())
        scaled = (block - low) / (high - low) if high > low else np.zeros_like(block)
        blocks.append(scaled * float(weights.get(name, 1.0)))
    return np.concatenate(blocks, axis=1)


def _find_extremes(days: Mapping[str, np.ndarray], extreme_days: Sequence[tuple[str, str]]) -> dict[str, int]:
    """``"column:kind"`` -> calendar day holding that extreme hour (first occurrence on ties)."""
    found: dict[str, int] = {}
    for spec in extreme_days:
        name, kind = spec
        if name not in days:
            raise ValueError(f"extreme day column {name!r} is not a numeric column of the frame")
        if kind not in ("max", "min"):
            raise ValueError(f"extreme day kind must be 'max' or 'min', got {kind!r} for {name!r}")
        flat = days[name].reshape(-1)
        hour = int(np.argmax(flat) if kind == "max" else np.argmin(flat))
        found[f"{name}:{kind}"] = hour // HOURS_PER_DAY
    return found


def _tsam_medoids(
    days: Mapping[str, np.ndarray],
    candidates: np.ndarray,
    columns: Sequence[str],
    weights: Mapping[str, float],
    n_clusters: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Hierarchical clustering with medoid representation by :func:`tsam.aggregate`.

    Parameters
    ----------
    days : mapping of str to numpy.ndarray
        Column -> (365, 24) values [column unit].
    candidates : numpy.ndarray of int
        Calendar days to cluster [-].
    columns : sequence of str
        Clustering features [-].
    weights : mapping of str to float
        Feature weights [-].
    n_clusters : int
        Number of clusters [-].

    Returns
    -------
    medoids : numpy.ndarray of int
        (n_clusters,) calendar day of each cluster's medoid [-].
    labels : numpy.ndarray of int
        (len(candidates),) cluster of each candidate day [-].
    """
    import tsam  # deferred on purpose: loading tsam (and scikit-learn) costs ~1 s; only clustering needs it

    hourly = pd.DataFrame(
        {name: days[name][candidates].reshape(-1) for name in columns},
        index=pd.RangeIndex(candidates.size * HOURS_PER_DAY),
    )
    non_unit = {name: float(w) for name, w in weights.items() if name in columns and float(w) != 1.0}
    result = tsam.aggregate(
        hourly,
        n_clusters=n_clusters,
        period_duration=HOURS_PER_DAY,
        temporal_resolution=1.0,
        cluster=tsam.ClusterConfig(method="hierarchical", representation="medoid"),
        weights=non_unit or None,
        preserve_column_means=False,
    )
    labels = np.asarray(result.cluster_assignments, dtype=np.int64)
    centers = result.clustering.cluster_centers
    if labels.shape != (candidates.size,) or centers is None or len(centers) != n_clusters:
        raise RuntimeError(
            f"tsam returned an inconsistent clustering: {labels.size} assignments for "
            f"{candidates.size} days, "
            f"{None if centers is None else len(centers)} medoids for {n_clusters} clusters"
        )
    medoid_pos = np.asarray(centers, dtype=np.int64)
    if labels.min() < 0 or labels.max() >= n_clusters or np.any(labels[medoid_pos] != np.arange(n_clusters)):
        raise RuntimeError("tsam returned medoids that are not members of their own clusters")
    # The medoid profiles must be the days we think they are.
    reps = result.cluster_representatives
    for name in columns:
        got = reps[name].to_numpy(dtype=float).reshape(n_clusters, HOURS_PER_DAY)
        want = days[name][candidates[medoid_pos]]
        if not np.allclose(got, want, rtol=1e-7, atol=1e-9 * max(1.0, float(np.abs(want).max()))):
            raise RuntimeError(f"tsam's medoid profiles of {name!r} do not match the days it named as medoids")
    return candidates[medoid_pos], labels


def _assemble(
    days: Mapping[str, np.ndarray],
    months: np.ndarray,
    rep_days: np.ndarray,
    assignment_days: np.ndarray,
    extremes: Mapping[str, int],
    method: str,
) -> RepresentativeDays:
    """Build a chronologically sorted :class:`RepresentativeDays` and check its consistency.

    ``assignment_days`` maps each calendar day to the calendar day that represents it.
    """
    order = np.sort(np.unique(rep_days))
    if order.size != rep_days.size:
        raise RuntimeError("the same calendar day was chosen as representative twice")
    position = np.full(DAYS_PER_YEAR, -1, dtype=np.int64)
    position[order] = np.arange(order.size)
    assignment = position[assignment_days]
    if np.any(assignment < 0):
        raise RuntimeError("some calendar days are assigned to a day that is not a representative")
    weight = np.bincount(assignment, minlength=order.size).astype(np.int64)
    _check_consistency(weight, assignment, order)
    data = {name: np.ascontiguousarray(block[order], dtype=float) for name, block in days.items()}
    arrays = [*data.values(), weight, order, assignment]
    rep_months = np.ascontiguousarray(months[order], dtype=np.int64)
    arrays.append(rep_months)
    for arr in arrays:
        arr.setflags(write=False)
    return RepresentativeDays(
        data=data,
        weight=weight,
        day_of_year=order,
        month=rep_months,
        assignment=assignment,
        method=method,
        extremes={label: int(position[day]) for label, day in extremes.items()},
    )


def _check_consistency(weight: np.ndarray, assignment: np.ndarray, day_of_year: np.ndarray) -> None:
    """Raise RuntimeError unless weights, assignment and medoid days agree."""
    n = weight.size
    if assignment.shape != (DAYS_PER_YEAR,):
        raise RuntimeError(f"assignment must cover {DAYS_PER_YEAR} days, has shape {assignment.shape}")
    if int(weight.sum()) != DAYS_PER_YEAR:
        raise RuntimeError(f"representative-day weights sum to {int(weight.sum())}, not {DAYS_PER_YEAR}")
    if np.any(weight < 1):
        raise RuntimeError(f"representative day(s) {np.flatnonzero(weight < 1).tolist()} stand for no day")
    if not np.array_equal(np.bincount(assignment, minlength=n), weight):
        raise RuntimeError("assignment is inconsistent with the weights")
    if not np.array_equal(assignment[day_of_year], np.arange(n)):
        raise RuntimeError("a representative day is not assigned to itself")


def reduce_days(
    frame: pd.DataFrame,
    *,
    method: Literal["tsam", "monthly", "full"],
    n_days: int | None = None,
    columns: Sequence[str] | None = None,
    column_weights: Mapping[str, float] | None = None,
    extreme_days: Sequence[tuple[str, Literal["max", "min"]]] = (),
    seed: int = 0,
    own_days: Sequence[int] = (),
) -> RepresentativeDays:
    """Represent a year of hourly profiles by a few real calendar days.

    ``method`` selects one of:

    ``"full"``
        All 365 days, weight 1 each (``extreme_days`` are recorded but change nothing).
    ``"monthly"``
        One typical day per month: the day of the month closest (Euclidean on min-max
        normalised, weighted columns) to the month's mean day, weight = days in the month.
        Extreme days, if given, are taken out of their month and added with weight 1, so
        12 + (number of distinct extreme days) days are returned.
    ``"tsam"``
        ``n_days`` days: the extreme days as days of their own (weight 1: each stands for
        itself only), and the remaining days clustered by :func:`tsam.aggregate`
        (hierarchical Ward clustering, medoid representation, no mean rescaling) into
        ``n_days - (number of distinct extreme days)`` clusters, each represented by its
        medoid. tsam's own extreme-period handling is not used: with medoids it skips an
        extreme that is already a medoid and can empty (and drop) a cluster, so the number of
        days it returns depends on the data (tsam issue #410). If two extremes fall on the same
        day, that day is kept once and the freed slot goes to the clustering, so exactly
        ``n_days`` days are returned.

    Every representative is a real calendar day, so its month is meaningful and its columns
    are mutually consistent. The result is deterministic (hierarchical clustering and
    tie-breaks by lowest day index).

    Parameters
    ----------
    frame : pandas.DataFrame
        8760 hourly rows (day ``t // 24``), as from :func:`load_profiles` [column units].
        All numeric columns except ``month`` / ``day`` / ``hour`` are carried into the
        result; ``month`` (if present) gives each day's month, else a non-leap calendar is
        assumed.
    method : {"tsam", "monthly", "full"}
        Reduction method [-].
    n_days : int, optional
        Number of representative days [-]; required for "tsam" (1..365, at least the number
        of extreme specs + 1). For "monthly" / "full" it may be given only as the resulting
        count (12 + distinct extreme days / 365).
    columns : sequence of str, optional
        Columns used as clustering features [-]; default all numeric columns.
    column_weights : mapping of str to float, optional
        Feature weight per column (default 1) [-]; 0 drops a column from the features.
    extreme_days : sequence of (str, {"max", "min"}), default ()
        Days holding the extreme hour of a column to keep as days of their own [-], e.g.
        ``("dry_bulb_c", "max")``, ``("hydro_availability", "min")``. Ties go to the first
        hour of the year.
    seed : int, default 0
        Unused: all methods are deterministic. Kept for API stability (should a randomised
        clustering be added) [-].
    own_days : sequence of int, default ()
        Calendar days 0..364 (e.g. grid rationing days) kept together as one representative day of
        their own: their medoid (the day nearest their mean day) stands for all of them and for no
        other day. With "tsam" it is one of the ``n_days``; with "monthly" it comes in addition to
        the 12 typical days (taken from their months like extreme days); an extreme day among them
        stays its own day. With "full" nothing changes [-].

    Returns
    -------
    RepresentativeDays
        Chronologically sorted representatives; ``extremes`` maps ``"column:kind"`` to the
        representative holding that extreme.

    Raises
    ------
    ValueError
        Bad method, frame shape, non-finite values, unknown columns, negative weights, or an
        invalid ``n_days``.
    RuntimeError
        The clustering came back inconsistent (weights, assignment or medoids).
    """
    del seed  # deterministic; see docstring
    days, months = _day_blocks(frame)
    weights = dict(column_weights or {})
    feature_cols = _feature_columns(days, columns, weights)
    specs = list(dict.fromkeys((str(c), str(k)) for c, k in extreme_days))
    extremes = _find_extremes(days, specs)
    extreme_set = np.array(sorted(set(extremes.values())), dtype=np.int64)
    own = np.setdiff1d(np.asarray(sorted(set(int(d) for d in own_days)), dtype=np.int64), extreme_set)
    if own.size and (own.min() < 0 or own.max() >= DAYS_PER_YEAR):
        raise ValueError(f"own_days must be calendar days 0..{DAYS_PER_YEAR - 1}")

    if method == "full":
        if n_days not in (None, DAYS_PER_YEAR):
            raise ValueError(f"method 'full' always gives {DAYS_PER_YEAR} days, got n_days={n_days}")
        every = np.arange(DAYS_PER_YEAR)
        return _assemble(days, months, every, every, extremes, "full")
    if method == "monthly":
        expected = 12 + extreme_set.size
        if n_days not in (None, expected):
            raise ValueError(
                f"method 'monthly' gives 12 days + {extreme_set.size} extreme day(s) = {expected}, got n_days={n_days}"
            )
        features = _normalised_features(days, feature_cols, weights)
        rep, target = _monthly_days(features, months, np.union1d(extreme_set, own))
        if own.size:
            medoid = _medoid(features, own)
            target[own] = medoid
            rep = np.array([d for d in rep if d not in own or d == medoid] + ([] if medoid in rep else [medoid]))
        return _assemble(days, months, rep, target, extremes, "monthly")
    if method != "tsam":
        raise ValueError(f"method must be 'tsam', 'monthly' or 'full', got {method!r}")
    n_days = _checked_n_days(n_days, len(specs) + int(own.size > 0))
    candidates = np.setdiff1d(np.arange(DAYS_PER_YEAR), np.union1d(extreme_set, own))
    n_clusters = n_days - extreme_set.size - int(own.size > 0)
    target = np.arange(DAYS_PER_YEAR)
    if n_clusters == candidates.size:
        medoids = candidates  # every remaining day is its own cluster
    else:
        medoids, labels = _tsam_medoids(days, candidates, feature_cols, weights, n_clusters)
        target[candidates] = medoids[labels]
    rep = np.concatenate([medoids, extreme_set])
    if own.size:
        medoid = _medoid(_normalised_features(days, feature_cols, weights), own)
        target[own] = medoid
        rep = np.append(rep, medoid)
    return _assemble(days, months, rep, target, extremes, "tsam")


def _day_blocks(frame: pd.DataFrame) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each numeric column as (365, 24) day blocks, and each day's month; checked finite."""
    if len(frame) != HOURS_PER_YEAR:
        raise ValueError(f"frame must have {HOURS_PER_YEAR} hourly rows (365 days), got {len(frame)}")
    value_cols = value_columns(frame)
    if not value_cols:
        raise ValueError("frame has no numeric profile columns")
    days = {name: frame[name].to_numpy(dtype=float).reshape(DAYS_PER_YEAR, HOURS_PER_DAY) for name in value_cols}
    nonfinite = [name for name, block in days.items() if not np.all(np.isfinite(block))]
    if nonfinite:
        raise ValueError(f"column(s) {nonfinite} hold NaN or infinite values")
    months = day_months(frame)
    if months.min() < 1 or months.max() > 12:
        raise ValueError("frame['month'] must hold 1..12")
    return days, months


def _feature_columns(
    days: Mapping[str, np.ndarray], columns: Sequence[str] | None, weights: Mapping[str, float]
) -> list[str]:
    """The clustering columns: those named (default all), without duplicates or weight 0; checked."""
    feature_cols = list(columns) if columns is not None else list(days)
    unknown = [name for name in [*feature_cols, *weights] if name not in days]
    if unknown:
        raise ValueError(f"unknown or non-numeric column(s): {sorted(set(unknown))}")
    negative = {name: w for name, w in weights.items() if not float(w) >= 0.0}
    if negative:
        raise ValueError(f"column weights must be >= 0, got {negative}")
    feature_cols = [name for name in dict.fromkeys(feature_cols) if float(weights.get(name, 1.0)) > 0.0]
    if not feature_cols:
        raise ValueError("no clustering columns left (all have weight 0)")
    return feature_cols


def _monthly_days(features: np.ndarray, months: np.ndarray, extreme_set: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One typical day per month (nearest its month's mean day) plus the extreme days; each day's representative."""
    is_extreme = np.isin(np.arange(DAYS_PER_YEAR), extreme_set)
    target = np.arange(DAYS_PER_YEAR)
    typical = []
    for m in range(1, 13):
        pool = np.flatnonzero((months == m) & ~is_extreme)
        if pool.size == 0:
            raise ValueError(f"month {m} has no day left after taking out the extreme days")
        dist = np.sqrt(((features[pool] - features[pool].mean(axis=0)) ** 2).sum(axis=1))
        best = int(pool[int(np.argmin(np.round(dist, 10)))])
        typical.append(best)
        target[pool] = best
    return np.array([*typical, *extreme_set.tolist()], dtype=np.int64), target


def _medoid(features: np.ndarray, pool: np.ndarray) -> int:
    """The day of ``pool`` nearest the pool's mean day (Euclidean on the features; ties: the earliest)."""
    dist = np.sqrt(((features[pool] - features[pool].mean(axis=0)) ** 2).sum(axis=1))
    return int(pool[int(np.argmin(np.round(dist, 10)))])


def _checked_n_days(n_days: int | None, n_extremes: int) -> int:
    """``n_days`` for method "tsam": a whole number of days, 1..365, leaving a clustered day."""
    if n_days is None:
        raise ValueError("method 'tsam' needs n_days")
    if isinstance(n_days, bool) or int(n_days) != n_days:
        raise ValueError(f"n_days must be an integer, got {n_days!r}")
    n_days = int(n_days)
    if not 1 <= n_days <= DAYS_PER_YEAR:
        raise ValueError(f"n_days must be 1..{DAYS_PER_YEAR}, got {n_days}")
    if n_days < n_extremes + 1:
        raise ValueError(
            f"n_days={n_days} leaves no clustered day besides the {n_extremes} extreme day(s); "
            f"need at least {n_extremes + 1}"
        )
    return n_days
