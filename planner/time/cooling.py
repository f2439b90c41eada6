"""The cooling coefficient κ: electric power of a cooling technology per unit of IT heat, hour by hour.

κ follows the outdoor temperature (free cooling, partial, mechanical with a temperature-dependent
COP); a liquid technology's residual heat goes to the room-air plant (:func:`effective_kappa`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

# ----------------------------------------------------------------------------------------------
# Cooling
# ----------------------------------------------------------------------------------------------


def cooling_coefficient(
    dry_bulb_c: np.ndarray,
    wet_bulb_c: np.ndarray,
    *,
    basis: Literal["dry_bulb", "wet_bulb"],
    free_cooling_below_c: float,
    mechanical_above_c: float,
    cop_rated: float,
    cop_rated_at_c: float,
    cop_slope_per_c: float,
    cop_min: float,
    fans_pumps_kw_per_kw: float,
) -> np.ndarray:
    """Electric cooling power per unit of IT heat as a function of ambient conditions.

    With ``T`` the basis temperature, the mechanical share is
    ``m = clip((T - free_cooling_below_c) / (mechanical_above_c - free_cooling_below_c), 0, 1)``
    (partial economiser in between), the chiller COP is
    ``COP = max(cop_min, cop_rated - cop_slope_per_c * (T - cop_rated_at_c))`` and the result
    is ``fans_pumps_kw_per_kw + m / COP``.

    Parameters
    ----------
    dry_bulb_c : numpy.ndarray
        Ambient dry-bulb temperature [°C].
    wet_bulb_c : numpy.ndarray
        Ambient wet-bulb temperature [°C]; broadcast against ``dry_bulb_c``.
    basis : {"dry_bulb", "wet_bulb"}
        Which temperature drives economiser and chiller (dry coolers / air-side vs. cooling
        towers / evaporative) [-].
    free_cooling_below_c : float
        Below this basis temperature cooling is fully free (economiser only) [°C].
    mechanical_above_c : float
        Above this basis temperature cooling is fully mechanical [°C]; must exceed
        ``free_cooling_below_c``.
    cop_rated : float
        Chiller COP at ``cop_rated_at_c`` [kW heat / kW electric].
    cop_rated_at_c : float
        Basis temperature at which ``cop_rated`` holds [°C].
    cop_slope_per_c : float
        Loss of COP per degree of basis temperature above ``cop_rated_at_c`` [1/°C].
    cop_min : float
        Floor of the COP [kW heat / kW electric]; must be positive.
    fans_pumps_kw_per_kw : float
        Always-on fans and pumps [kW electric / kW IT heat].

    Returns
    -------
    numpy.ndarray of float64
        Cooling coefficient kappa, broadcast shape of the inputs [kW electric / kW IT heat].

    Raises
    ------
    ValueError
        Unknown ``basis``, ``mechanical_above_c <= free_cooling_below_c``, non-positive
        ``cop_min`` or ``cop_rated``, or negative ``fans_pumps_kw_per_kw``.
    """
    if basis not in ("dry_bulb", "wet_bulb"):
        raise ValueError(f"basis must be 'dry_bulb' or 'wet_bulb', got {basis!r}")
    if not mechanical_above_c > free_cooling_below_c:
        raise ValueError(
            f"mechanical_above_c ({mechanical_above_c}) must exceed free_cooling_below_c ({free_cooling_below_c})"
        )
    if not (cop_min > 0 and cop_rated > 0):
        raise ValueError(f"cop_min ({cop_min}) and cop_rated ({cop_rated}) must be positive")
    if fans_pumps_kw_per_kw < 0:
        raise ValueError(f"fans_pumps_kw_per_kw must be >= 0, got {fans_pumps_kw_per_kw}")
    dry, wet = np.broadcast_arrays(np.asarray(dry_bulb_c, dtype=float), np.asarray(wet_bulb_c, dtype=float))
    temp = dry if basis == "dry_bulb" else wet
    share = np.clip((temp - free_cooling_below_c) / (mechanical_above_c - free_cooling_below_c), 0.0, 1.0)
    cop = np.maximum(cop_min, cop_rated - cop_slope_per_c * (temp - cop_rated_at_c))
    return np.asarray(fans_pumps_kw_per_kw + share / cop, dtype=float)


def technology_kappa(cooling: Any, dry_bulb_c: np.ndarray, wet_bulb_c: np.ndarray) -> np.ndarray:
    """:func:`cooling_coefficient` of one cooling technology (a scenario's ``cooling.<name>``) at the
    given ambient temperatures [kW electric / kW IT heat].
    """
    return cooling_coefficient(
        dry_bulb_c,
        wet_bulb_c,
        basis=cooling.basis,
        free_cooling_below_c=cooling.free_cooling_below_c,
        mechanical_above_c=cooling.mechanical_above_c,
        cop_rated=cooling.cop_rated,
        cop_rated_at_c=cooling.cop_rated_at_c,
        cop_slope_per_c=cooling.cop_slope_per_c,
        cop_min=cooling.cop_min,
        fans_pumps_kw_per_kw=cooling.fans_pumps_kw_per_kw,
    )


def effective_kappa(cooling: Mapping[str, Any], kappa: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Cooling power per unit of a technology's IT power, with its room-air residual [kW/kW].

    A liquid technology rejects ``liquid_capture`` of its racks' heat through its own loop
    (``kappa[c]``) and leaves the rest to room air, cooled by ``residual_heat_to`` (its own
    ``kappa``): ``kappa_eff[c] = capture_c * kappa[c] + (1 - capture_c) * kappa[residual_c]``.

    Parameters
    ----------
    cooling : mapping of str to Cooling
        The scenario's cooling technologies (``scenario.cooling``).
    kappa : mapping of str to numpy.ndarray
        Each technology's own coefficient, (n_days, 24) [kW electric per kW heat].
    """
    out = {}
    for name, c in cooling.items():
        own = np.asarray(kappa[name], dtype=float)
        if c.liquid_capture < 1 and c.residual_heat_to is not None:
            out[name] = c.with_residual(own, np.asarray(kappa[c.residual_heat_to], dtype=float))
        else:
            out[name] = own
    return out
