"""Chest radiographs: report text, summaries, the CheXpert-style labeler, dataset loaders and the synthetic renderer.

* :mod:`radscribe.cxr.reports` -- the 3,955 real IU-Xray (Open-i) reports and the ``Report`` record.
* :mod:`radscribe.cxr.summaries` -- XrayGPT's report-to-summary preprocessing as deterministic rules.
* :mod:`radscribe.cxr.labeler` -- 14 CheXpert observations (1 / 0 / -1 / unmentioned) from free text,
  plus finding attributes (side, size, location) for the renderer.
* :mod:`radscribe.cxr.loaders` -- a user's own MIMIC-CXR-JPG or Open-i folders as ``CxrStudy`` records.
* :mod:`radscribe.cxr.render` -- synthetic radiographs drawn to agree with a report (labelled synthetic).
"""
