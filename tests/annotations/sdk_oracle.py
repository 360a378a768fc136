"""The official SDK's annotation types and NDJSON converter: the oracle of the differential tests
and the other side of `benchmarks/annotations.py`.

`labelbox.types` imports the `labelbox[data]` extra (numpy, shapely, opencv, Pillow, pyproj,
pygeotile) at module level, for geometry, raster and tiled-image annotations. The project pins
only `labelbox`, so when those packages are missing they are replaced by inert placeholder
modules before the import. Message-evaluation tasks and radio/checklist/text classifications,
and their path through `NDJsonConverter`, never call into them (the geometry classes merely get
defined), so the oracle's behaviour for what is compared here is the SDK's own. Where the extra is
installed, the real packages are used and nothing is replaced.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from functools import cache
from typing import Any

# Imported by `labelbox.types` for annotation kinds this project never builds.
_DATA_EXTRA = (
    "numpy",
    "cv2",
    "PIL",
    "PIL.Image",
    "shapely",
    "shapely.geometry",
    "shapely.affinity",
    "shapely.ops",
    "shapely.validation",
    "pyproj",
    "pygeotile",
    "pygeotile.point",
    "pygeotile.tile",
)


class _Inert:
    """Stands for any class or function of a missing package; never used by the compared paths."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __call__(self, *args: Any, **kwargs: Any) -> _Inert:
        return _Inert()

    def __getattr__(self, name: str) -> _Inert:
        return _Inert()

    def __class_getitem__(cls, item: Any) -> type[_Inert]:
        return cls


def _placeholder(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    def attribute(attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        value = type(attr, (_Inert,), {})
        setattr(module, attr, value)
        return value

    module.__getattr__ = attribute  # type: ignore[method-assign]
    module.__path__ = []
    return module


def _install_placeholders() -> list[str]:
    replaced = []
    for name in _DATA_EXTRA:
        root = name.split(".")[0]
        if root not in replaced and importlib.util.find_spec(root) is not None:
            continue  # the real package is installed
        module = sys.modules[name] = _placeholder(name)
        if "." in name:
            parent, _, child = name.rpartition(".")
            setattr(sys.modules[parent], child, module)
        replaced.append(name)
    return replaced


@cache
def sdk() -> types.SimpleNamespace:
    """`lb_types` (labelbox.types), `NDJsonConverter`, `parser`, `LabelImport` (whose body-building
    step the benchmark times) and which modules were replaced."""
    try:
        import labelbox.types as lb_types
    except ImportError:
        replaced = _install_placeholders()
        for name in [m for m in sys.modules if m.startswith("labelbox.")]:
            if name.startswith(("labelbox.data", "labelbox.types")):
                del sys.modules[name]  # a half-imported package must import again
        import labelbox.types as lb_types
    else:
        replaced = []
    from labelbox import parser
    from labelbox.data.serialization import NDJsonConverter
    from labelbox.schema.annotation_import import LabelImport

    for name in replaced:
        # The SDK's modules keep their references; nobody else may mistake a placeholder for the
        # real package (hypothesis, for one, seeds numpy's generator when "numpy" is imported).
        del sys.modules[name]

    return types.SimpleNamespace(
        types=lb_types,
        NDJsonConverter=NDJsonConverter,
        parser=parser,
        LabelImport=LabelImport,
        replaced=replaced,
    )


def serialize(labels: list[Any]) -> list[dict[str, Any]]:
    """The SDK's NDJSON lines for `Label`s."""
    return list(sdk().NDJsonConverter.serialize(labels))


def comparable(line: dict[str, Any]) -> str:
    """A line without its uuid, as JSON with sorted keys (the differential tests compare these)."""
    import json

    return json.dumps({k: v for k, v in line.items() if k != "uuid"}, sort_keys=True)
