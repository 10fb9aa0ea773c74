"""Edge targets: the model in this process, through a runtime session, on a constrained thread count."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from edgecloud.params import Timing
from edgecloud.payloads import PayloadKind, Sample, make_payload, model_inputs, to_model_inputs
from edgecloud.results.store import Config
from edgecloud.runtimes import Session
from edgecloud.timing import Measurement, clocked, measure
from edgecloud.vocabulary import IN_PROCESS


@dataclass(frozen=True)
class InProcess:
    """A named edge target: a camera frame (preprocessed here) or the model's tensors → model, in this process."""

    name: str
    session: Session

    def config(self, **extra: object) -> Config:
        s = self.session
        return Config(
            target=self.name, model=s.model.name, runtime=s.runtime, precision=s.precision, threads=s.threads, **extra
        )

    def call(self, sample: Sample) -> Callable[[], float]:
        model = self.session.model
        return clocked(lambda: self.session.run(model_inputs(model, sample)))


def served_work(session: Session, kind: PayloadKind, sample: Sample, timing: Timing, config: Config) -> Measurement:
    """The work a served request does (build the payload, decode it as the server does, run the model) in this
    process, without the protocol: the baseline that serving overhead is measured against."""
    model = session.model

    def work() -> None:
        session.run(to_model_inputs(model, make_payload(model, kind, sample)))

    return measure(work, config.with_(target=IN_PROCESS, payload=kind), timing)
