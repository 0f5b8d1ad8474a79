"""CT image-quality data: procedural and real anatomy, acquisition physics, annotation and captions (issue 3)."""

# Lazy exports (PEP 562): `import radscribe.ctiqa` stays light; torch loads only when physics is used.
_LAZY = {
    "annotate": "radscribe.ctiqa.annotation",
    "annotate_simulation": "radscribe.ctiqa.annotation",
    "Annotation": "radscribe.ctiqa.annotation",
    "PROTOCOL_VERSION": "radscribe.ctiqa.annotation",
    "ASPECTS": "radscribe.ctiqa.annotation",
    "SEVERITIES": "radscribe.ctiqa.annotation",
    "sample_params": "radscribe.ctiqa.sampling",
    "describe": "radscribe.ctiqa.text",
    "parse_caption": "radscribe.ctiqa.text",
    "ParsedCaption": "radscribe.ctiqa.text",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'radscribe.ctiqa' has no attribute {name!r}")
