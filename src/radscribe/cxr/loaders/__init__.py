"""A user's own chest-radiograph datasets as ``CxrStudy`` records (images + report + labels + split).

* :func:`load_mimic_cxr` -- MIMIC-CXR-JPG (``files/pXX/pNNNNNNNN/sNNNNNNNN/*.jpg``, reports, CSVs).
* :func:`load_openi` -- Open-i / IU-Xray (XML reports and PNG images named by image id).

The data itself is credentialed or large and is never downloaded by radscribe.
"""

from radscribe.cxr.loaders.mimic_cxr import iter_mimic_cxr, load_mimic_cxr, parse_mimic_report
from radscribe.cxr.loaders.openi import iter_openi, load_openi
from radscribe.cxr.loaders.study import CxrStudy

__all__ = ["CxrStudy", "iter_mimic_cxr", "iter_openi", "load_mimic_cxr", "load_openi", "parse_mimic_report"]
