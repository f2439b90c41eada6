"""A plan as data: the solved model as one ``xarray.Dataset``, its key figures, its file and
provenance.

``dataset`` (model -> Dataset, driven by the table of ``variables``), ``kpis`` (figures computed
from a Dataset), ``sites`` (the cluster view: a plan's sites added up), ``io`` (atomic writes, the
netCDF file), ``provenance`` (input files, versions, and whether they still match). Nothing after
this package touches Pyomo.
"""
