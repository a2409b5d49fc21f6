"""Re-analysis of many recorded sessions in parallel (``gaitmon reanalyze``), e.g. after a detector fix.

Each session is one independent task, :func:`reanalyze_session`: it loads the session as ``gaitmon
replay`` (a session folder is replayed through the live pipeline) or ``gaitmon analyze`` (a samples
CSV, a BIDS session) does, corrects it by the athlete's saved calibration, writes the same files into
its own sub-folder of the output folder, and returns a small picklable :class:`Reanalysis` (metadata,
the detected step table, what was written, or why it failed). A task never raises for bad input: one
broken session does not stop the others.

The tasks run on any :class:`concurrent.futures.Executor` (:func:`executor`): none (one after another
in this process), local processes (:class:`~concurrent.futures.ProcessPoolExecutor`), or a Dask
distributed cluster (its client's executor; the optional extra ``gaitmon[cluster]``). On a cluster
every worker must have gaitmon installed and see the session and output folders at the same paths.
:func:`reanalyze` adds each session to the athlete history as its task comes back, in this process
only (one writer), as ``gaitmon import`` does.

The outputs depend on the recording, the code and the calibration only, not on where or in which
order the tasks ran: a serial run, local processes and a Dask cluster write byte-identical files
(tests/integration/test_reanalyze.py).
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import logging
import multiprocessing
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gaitmon.analysis.calibration import Calibration
from gaitmon.analysis.steps import Step
from gaitmon.engine.analyze import result_problem, write_session_outputs
from gaitmon.engine.load import load, recordings
from gaitmon.errors import InputError, log
from gaitmon.session.history import History, SessionOwnerError, default_db_path
from gaitmon.session.history_store import default_location, is_postgres
from gaitmon.session.meta import SessionMeta


@dataclass(frozen=True)
class SessionTask:
    """One session to re-analyse: what a worker needs, and nothing it would have to share."""

    #: Session folder, samples CSV or BIDS session folder (absolute: workers may run elsewhere).
    source: Path
    #: The session's own output folder (absolute).
    out: Path
    #: Athlete and sensor placement of a samples CSV (session folders and BIDS sessions know theirs).
    athlete: str = ""
    placement: str = "shank"
    #: The saved calibrations; the one of the session's athlete applies (none: no correction).
    calibrations: tuple[Calibration, ...] = ()


@dataclass
class Reanalysis:
    """What came of one :class:`SessionTask` (picklable: it travels back from the worker)."""

    task: SessionTask
    #: Why the session failed, one line naming the file; None when its outputs were written.
    error: str | None = None
    meta: SessionMeta | None = None
    #: The step table as detected, uncalibrated: what the athlete history stores.
    steps: list[Step] = field(default_factory=list)
    #: The coach's summary (:meth:`~gaitmon.analysis.result.AnalysisResult.summary`).
    summary: str = ""
    written: list[Path] = field(default_factory=list)
    #: Damaged records and rows skipped (the outputs use the rest), and notes about the input.
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Length of the recording, s.
    duration_s: float = 0.0
    #: CPU time the task took in its worker, s.
    cpu_s: float = 0.0
    #: ``"added"``, ``"unchanged"`` or ``"updated"`` once in the athlete history (:meth:`History.add_session`).
    history: str = ""

    @property
    def failed(self) -> bool:
        return self.error is not None


def plan(sources: Sequence[Path], out_dir: Path, athlete: str = "", placement: str = "shank",
         calibrations: Iterable[Calibration] = ()) -> list[SessionTask]:
    """One task per session the ``sources`` hold (a BIDS dataset holds several), each given once.

    A session's output folder is ``out_dir/<its folder or file name>``; names that two sessions
    share get their parent folder's name in front (``sub-01_ses-01``), then ``_2``, ``_3`` … in the
    order given. A source that cannot be read is planned as it is: its task says why it failed.
    """
    unique_sessions: dict[Path, None] = {}  # in the order given
    for source in sources:
        try:
            found = recordings(Path(source))
        except InputError:
            found = [Path(source)]
        unique_sessions.update(dict.fromkeys(path.resolve() for path in found))
    sessions = list(unique_sessions)
    names = [path.stem if path.is_file() else path.name for path in sessions]
    shared = {name for name, n in collections.Counter(names).items() if n > 1}
    names = [f"{path.parent.name}_{name}" if name in shared else name for path, name in zip(sessions, names)]
    taken: set[str] = set()
    out_dir = Path(out_dir).resolve()
    tasks = []
    for path, name in zip(sessions, names):
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}_{n}"
        taken.add(unique)
        tasks.append(SessionTask(path, out_dir / unique, athlete, placement, tuple(calibrations)))
    return tasks


def reanalyze_session(task: SessionTask) -> Reanalysis:
    """Load, analyse and write one session (the worker's whole job); never raises for bad input."""
    started = time.process_time()
    outcome = _reanalyzed(task)
    outcome.cpu_s = time.process_time() - started
    return outcome


def _reanalyzed(task: SessionTask) -> Reanalysis:
    try:
        loaded = load(task.source, athlete=task.athlete, placement=task.placement)
        problem = result_problem(loaded.result, loaded.samples, loaded.unit_statistics)
        if problem:
            damaged = "".join(f"; {damage}" for damage in loaded.problems)
            return Reanalysis(task, error=f"{task.source}: {problem}{damaged}", notes=loaded.notes)
        result = loaded.result
        athlete = loaded.meta.athlete.strip().casefold()
        calibration = next((c for c in task.calibrations if athlete and c.athlete.strip().casefold() == athlete), None)
        if calibration is not None:
            result = result.calibrated(calibration)
        written = write_session_outputs(task.out, result, loaded.live, loaded.samples, loaded.meta)
        duration = loaded.meta.duration_s or max((float(t[-1]) for t, _ in loaded.samples.values() if len(t)),
                                                 default=0.0)
        return Reanalysis(task, meta=loaded.meta, steps=list(result.detected_steps),
                          summary=result.summary(loaded.meta.athlete or task.source.name), written=written,
                          problems=loaded.problems, notes=loaded.notes, duration_s=duration)
    except InputError as error:
        return Reanalysis(task, error=str(error))
    except OSError as error:
        return Reanalysis(task, error=f"{error.filename or task.source}: {error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - a bug met by one session must not stop the others
        log.debug("re-analysis of %s failed", task.source, exc_info=True)
        return Reanalysis(task, error=f"{task.source}: {type(error).__name__}: {error}")


def run_tasks(tasks: Sequence[SessionTask], pool: concurrent.futures.Executor | None) -> Iterator[Reanalysis]:
    """The tasks' outcomes as they finish (one after another in this process when ``pool`` is None).
    A worker that dies (a crash, killed) fails its session with the reason, not the run."""
    if pool is None:
        yield from map(reanalyze_session, tasks)
        return
    futures = {pool.submit(reanalyze_session, task): task for task in tasks}
    for future in concurrent.futures.as_completed(futures):
        try:
            yield future.result()
        except Exception as error:  # noqa: BLE001 - e.g. BrokenProcessPool, Dask's KilledWorker
            yield Reanalysis(futures[future], error=f"{futures[future].source}: the worker running it failed: "
                                                    f"{type(error).__name__}: {error}")


def reanalyze(tasks: Sequence[SessionTask], pool: concurrent.futures.Executor | None,
              history: History | None = None, reassign: bool = False) -> Iterator[Reanalysis]:
    """:func:`run_tasks`, each session written into ``history`` as it comes back (None: not stored),
    exactly as ``gaitmon import`` does; a session the history refuses fails with the reason (its
    outputs stay written)."""
    for outcome in run_tasks(tasks, pool):
        if history is not None and not outcome.failed:
            if not outcome.meta.athlete.strip():
                outcome.error = (f"{outcome.task.source}: outputs written, not added to the history: no athlete "
                                 "name in this file (give --athlete NAME)")
            else:
                try:
                    outcome.history = history.add_session(outcome.meta, outcome.steps,
                                                          source_path=str(outcome.task.source), reassign=reassign)
                except (SessionOwnerError, ValueError) as error:
                    outcome.error = f"{outcome.task.source}: outputs written, not added to the history: {error}"
        yield outcome


def saved_calibrations(db: Path | str | None) -> tuple[Calibration, ...]:
    """The newest calibration of every athlete in the history at ``db`` (a file or a postgresql://
    URI; None: ``$GAITMON_DB``, else the data directory's), for :func:`plan`; none when a history
    file does not exist yet (a look-up does not create it)."""
    location = db or default_location() or default_db_path()
    if not (is_postgres(location) or Path(location).exists()):
        return ()
    with History(db) as history:
        return tuple(c for c in map(history.calibration, history.athletes()) if c is not None)


@contextlib.contextmanager
def executor(workers: int = 1, scheduler: str | None = None,
             dask_local: int | None = None) -> Iterator[concurrent.futures.Executor | None]:
    """Where the tasks run, as a :class:`concurrent.futures.Executor`, shut down on exit.

    Parameters
    ----------
    workers : int
        Local processes (1: none, the tasks run one after another in this process).
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``): the tasks run on its workers.
    dask_local : int, optional
        Start a Dask cluster of this many single-threaded worker processes on this machine.

    Raises
    ------
    gaitmon.errors.InputError
        Dask is asked for but not installed, or the scheduler cannot be reached.
    """
    if scheduler is None and dask_local is None:
        if workers == 1:
            yield None
            return
        # Forked from a server that imported gaitmon once: no copy of this process's threads, a fast start.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        pool = concurrent.futures.ProcessPoolExecutor(workers, mp_context=context)
        try:
            yield pool
        except BaseException:  # e.g. Ctrl-C: the sessions not started yet are dropped, not waited for
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return
    option = "--scheduler" if scheduler is not None else "--dask-local"
    try:
        import dask
        import distributed
    except ImportError:
        raise InputError("gaitmon reanalyze", option, "needs Dask distributed: pip install 'gaitmon[cluster]'") from None
    # Dask sets its loggers to INFO: its start-up and shut-down chatter only with gaitmon's -vv (root DEBUG).
    logging.getLogger("distributed").setLevel(logging.getLogger().getEffectiveLevel())
    with contextlib.ExitStack() as stack:
        if dask_local is not None:
            # Dask's workers return freed memory to the system at once (MALLOC_TRIM_THRESHOLD_=65536): that
            # costs a re-analysis a third more CPU or more (page faults of its arrays); glibc's default here.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                target = stack.enter_context(distributed.LocalCluster(
                    n_workers=dask_local, threads_per_worker=1, processes=True, host="127.0.0.1",
                    dashboard_address="127.0.0.1:0"))  # a free port: 8787 may be taken (and it warns)
        else:
            target = scheduler
        try:
            client = stack.enter_context(distributed.Client(target, timeout="10s"))
        except OSError as error:
            raise InputError("gaitmon reanalyze", option, f"cannot reach the Dask scheduler {target}: {error}") from None
        info = client.scheduler_info()
        log.info("Dask scheduler %s: %d workers", info["address"], len(info["workers"]))
        yield client.get_executor(pure=False)
