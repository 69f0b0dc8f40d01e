"""The event buffer: every epoch and end event, a bounded window of batch events, stable indexes."""

from __future__ import annotations

from dlapp.events import EventBuffer


def _fill(buffer: EventBuffer, epochs: int, batches_per_epoch: int) -> None:
    for epoch in range(epochs):
        for step in range(batches_per_epoch):
            buffer.append("batch", {"epoch": epoch, "step": step})
        buffer.append("epoch", {"epoch": epoch})
    buffer.append("finished", {})


def test_old_batch_events_go_and_every_other_event_stays():
    buffer = EventBuffer(batch_window=50)
    _fill(buffer, epochs=40, batches_per_epoch=100)  # 4,000 batch events
    kept = buffer.since(0)
    batches = [e for e in kept if e.kind == "batch"]
    assert 50 <= len(batches) <= 100
    assert batches[-1].data == {"epoch": 39, "step": 99}  # the newest are the ones kept
    assert [e.data["epoch"] for e in kept if e.kind == "epoch"] == list(range(40))
    assert kept[-1].kind == "finished" and len(buffer) == 40 * 101 + 1 == kept[-1].index + 1


def test_a_reader_that_keeps_its_place_by_index_sees_each_event_once_even_when_it_falls_behind():
    buffer = EventBuffer(batch_window=5)
    seen, position = [], 0
    for epoch in range(6):
        for step in range(40):
            buffer.append("batch", {"epoch": epoch, "step": step})
            if epoch < 2 and step % 3 == 0:  # reads often, then not for four epochs (160 batches)
                read = buffer.since(position)
                seen += read
                position = read[-1].index + 1 if read else position
        buffer.append("epoch", {"epoch": epoch})
    late = buffer.since(position)
    assert len(late) < 4 * 41  # most of what it missed is gone...
    seen += late
    indexes = [e.index for e in seen]
    assert indexes == sorted(set(indexes))  # nothing twice, in order
    assert [e.data["epoch"] for e in seen if e.kind == "epoch"] == list(range(6))


def test_reading_from_a_future_index_returns_nothing():
    buffer = EventBuffer(batch_window=5)
    _fill(buffer, epochs=1, batches_per_epoch=3)
    assert buffer.since(len(buffer)) == [] and buffer.since(10_000) == []
    assert [e.kind for e in buffer.since(len(buffer) - 2)] == ["epoch", "finished"]
