"""radscribe: medical images in, words out.

Two systems live here: an IQAGPT-style CT image-quality captioner and an
XrayGPT-style conversational chest-radiograph model. Everything reads images
through :mod:`radscribe.io` and reports failures as :class:`RadscribeError`.
"""

from radscribe.errors import RadscribeError

__version__ = "0.1.0"
__all__ = ["RadscribeError", "__version__"]
