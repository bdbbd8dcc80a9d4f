"""Checking in a second process: a forked child reads and checks records while the
parent writes them."""

import marshal
import multiprocessing
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress

from django.db import connections

from .checking import (
    ActionEntry,
    CleanRecord,
    ClientEntry,
    HistoryEntry,
    PhoneEntry,
    check_record,
)
from .problems import Problem
from .reading import RawRecord

# Reading and checking take about half as long as writing; for big inputs a
# forked child does them while this process writes. Records cross the pipe as
# marshal data: they hold only plain types (dates and amounts as text), which
# makes that several times cheaper than pickling objects.
PARALLEL_MIN_BYTES = 8 << 20
PARALLEL_MIN_RECORDS = 10_000


def _pack(item: CleanRecord | Problem) -> tuple:
    if isinstance(item, Problem):
        return (1, *item)
    return (
        0,
        item.origin,
        item.line,
        item.uscc,
        item.values,
        item.province_text,
        item.names,
        [tuple(entry) for entry in item.phones],
        [tuple(entry) for entry in item.clients],
        [tuple(entry) for entry in item.actions],
        [tuple(problem) for problem in item.problems],
        item.search,
        item.sheet,
        [tuple(entry) for entry in item.history],
    )


def _unpack(packed: tuple) -> CleanRecord | Problem:
    if packed[0] == 1:
        return Problem(*packed[1:])
    (
        _,
        origin,
        line,
        code,
        values,
        province,
        names,
        phones,
        clients,
        actions,
        problems,
        search,
        sheet,
        history,
    ) = packed
    return CleanRecord(
        origin,
        line,
        code,
        values,
        province,
        names,
        [PhoneEntry._make(entry) for entry in phones],
        [ClientEntry._make(entry) for entry in clients],
        [ActionEntry._make(entry) for entry in actions],
        [Problem._make(problem) for problem in problems],
        [HistoryEntry._make(entry) for entry in history],
        search=search,
        sheet=sheet,
    )


def check_each(items: Iterable[RawRecord | Problem]) -> Iterator[CleanRecord | Problem]:
    """Each record checked, in this process; problems with whole files pass through."""
    for item in items:
        yield item if isinstance(item, Problem) else check_record(item)


def _single_threaded() -> bool:
    """fork() is only safe (and free of DeprecationWarning) without other threads."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return threading.active_count() == 1


def can_fork() -> bool:
    """Whether checked_in_child() can be used here."""
    # Linux only: macOS system libraries are not fork-safe, Windows has no fork.
    return sys.platform.startswith("linux") and _single_threaded()


def _child_main(items_factory, batch_size: int, sender, parents_end) -> None:
    # The fork gave this process the parent's end of the pipe too. Closed, the
    # pipe has no reader once the parent is gone (even killed outright), and
    # the next send fails instead of blocking here forever.
    parents_end.close()
    # Stopping is the parent's business: it ends this process when it stops, so
    # Ctrl-C (sent to the whole process group) must not race it here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # The inherited database connections are the parent's: never use them, and keep
    # them referenced, because closing one would end the parent's session too. Should
    # the records' source query the database, it gets a connection of its own.
    inherited = [(c, c.connection) for c in connections.all(initialized_only=True)]
    for wrapper, _ in inherited:
        wrapper.connection = None
    try:
        batch = []
        for item in check_each(items_factory()):
            batch.append(_pack(item))
            if len(batch) >= batch_size:
                sender.send_bytes(marshal.dumps(batch))
                batch = []
        if batch:
            sender.send_bytes(marshal.dumps(batch))
        sender.send_bytes(b"")
    except BrokenPipeError:
        pass  # the parent stopped reading: it is stopping
    except BaseException:
        with suppress(OSError):
            sender.send_bytes(marshal.dumps(traceback.format_exc()))
    finally:
        sender.close()


def _receive(receiver) -> Iterator[CleanRecord | Problem]:
    while True:
        try:
            data = receiver.recv_bytes()
        except EOFError:
            raise RuntimeError("检查记录的子进程意外退出。") from None
        if not data:
            return
        batch = marshal.loads(data)
        if isinstance(batch, str):
            raise RuntimeError("检查记录的子进程出错：\n" + batch)
        for packed in batch:
            yield _unpack(packed)


@contextmanager
def checked_in_child(items_factory, batch_size: int):
    """check_each(items_factory()), run in a forked child; yields an iterator of its results.

    The items must not come from the database: the child can't use the
    parent's connection. The child is ended when the block is left.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_main, args=(items_factory, batch_size, sender, receiver), daemon=True
    )
    child.start()
    sender.close()
    try:
        yield _receive(receiver)
    finally:
        receiver.close()
        if child.is_alive():
            child.terminate()
        child.join()
