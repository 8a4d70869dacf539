"""Build the describer and annotator a config names.

Apart from :mod:`prefscope.interpret.backend` (the interface) so that the interface imports no
implementation: ``lexical`` and the LLM backends import the interface, and this module imports
them, so no import runs in a circle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from prefscope.interpret.backend import Annotator, Describer
from prefscope.interpret.lexical import LexicalBackend


def make_backends(
    describer: str,
    annotator: str | None,
    llm_config: dict[str, Any],
    background: Sequence[str],
    cache_path: str | None = None,
) -> tuple[Describer, Annotator]:
    """Build the describer and annotator named in the config.

    ``lexical`` needs ``background`` (all responses of the dataset) for its prior; any other
    name is looked up in ``llm_config["backends"]`` by :mod:`prefscope.llm` (imported lazily so
    the offline path never imports HTTP clients or vLLM).
    """
    annotator = annotator or describer
    built: dict[str, Any] = {}

    def build(name: str) -> Any:
        if name not in built:
            if name == "lexical":
                built[name] = LexicalBackend(background)
            else:
                from prefscope.llm import make_feature_backend

                built[name] = make_feature_backend(name, llm_config, cache_path=cache_path)
        return built[name]

    return build(describer), build(annotator)
