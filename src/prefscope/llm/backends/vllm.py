"""An offline vLLM engine in-process (the optional extra ``prefscope[vllm]``, GPU rules only).

``vllm`` is imported when the engine is first needed, never at import time: vLLM has no CPU
install (see research/mlstack.md §1c), and ``import prefscope.llm`` must work without it.
Batches go to the engine in one ``LLM.chat`` call, which is how vLLM reaches its throughput.
For most users a ``vllm serve`` endpoint with ``type: openai`` is simpler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from prefscope.errors import BudgetExceeded
from prefscope.llm.budget import Budget, estimate_tokens
from prefscope.llm.cache import CallCache
from prefscope.llm.chat import ChatBackend, Completion, Messages
from prefscope.llm.config import BackendConfig

MISSING_VLLM = (
    "llm backend {name!r} has type 'vllm' but the vllm package is not installed. "
    "Install the optional extra on a GPU machine (pip install 'prefscope[vllm]'), or run "
    "`vllm serve MODEL` and use type: openai with base_url: http://HOST:8000/v1."
)


class VLLMBackend(ChatBackend):
    """``type: vllm`` — ``model`` is a local path or a hub id in the local cache."""

    def __init__(
        self, config: BackendConfig, *, cache: CallCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        super().__init__(config, cache=cache, budget=budget)
        self._engine: Any = None

    def engine(self) -> Any:
        if self._engine is None:
            try:
                import vllm
            except ImportError:
                raise RuntimeError(MISSING_VLLM.format(name=self.name)) from None
            cfg = self.config
            kwargs: dict[str, Any] = {
                "model": cfg.model, "tensor_parallel_size": cfg.tensor_parallel_size,
                "dtype": cfg.dtype, "gpu_memory_utilization": cfg.gpu_memory_utilization,
                "trust_remote_code": cfg.trust_remote_code,
            }
            if cfg.max_model_len is not None:
                kwargs["max_model_len"] = cfg.max_model_len
            self._engine = vllm.LLM(**kwargs)
        return self._engine

    def _sampling_params(self, sampling: dict[str, Any]) -> Any:
        import vllm

        return vllm.SamplingParams(
            temperature=float(sampling.get("temperature") or 0.0),
            max_tokens=int(sampling.get("max_completion_tokens", 256)),
            seed=sampling.get("seed"),
            **({"top_p": float(sampling["top_p"])} if "top_p" in sampling else {}),
        )

    def _generate(self, messages: Messages, sampling: dict[str, Any]) -> Completion:
        out: list[Completion] = []
        self._run([messages], sampling, lambda _i, c: out.append(c))
        return out[0]

    def _generate_many(
        self, conversations: Sequence[Messages], sampling: dict[str, Any],
        on_done: Callable[[int, Completion], None],
    ) -> None:
        """Admit as many as the budget allows, run them as one batch, then report the rest."""
        admitted: list[tuple[int, int]] = []
        stop: BudgetExceeded | None = None
        for i, conv in enumerate(conversations):
            reserve = estimate_tokens(conv) + int(sampling.get("max_completion_tokens", 0))
            try:
                self.budget.reserve(reserve)
            except BudgetExceeded as err:
                stop = err
                break
            admitted.append((i, reserve))
        reserves = dict(admitted)
        order = [i for i, _ in admitted]

        def done(j: int, comp: Completion) -> None:
            i = order[j]
            self.budget.settle(reserves[i], comp.prompt_tokens + comp.completion_tokens)
            self._usage.add(calls=1, prompt_tokens=comp.prompt_tokens,
                            completion_tokens=comp.completion_tokens)
            on_done(i, comp)

        if order:
            self._run([conversations[i] for i in order], sampling, done)
        if stop is not None:
            raise stop

    def _run(
        self, conversations: Sequence[Messages], sampling: dict[str, Any],
        on_done: Callable[[int, Completion], None],
    ) -> None:
        outputs = self.engine().chat(list(conversations), self._sampling_params(sampling),
                                     use_tqdm=False)
        for j, result in enumerate(outputs):
            first = result.outputs[0]
            on_done(j, Completion(text=first.text,
                                  prompt_tokens=len(result.prompt_token_ids or []),
                                  completion_tokens=len(first.token_ids or [])))
