"""10⁶ fuzzed notifications per decoder and per setup-time parser: only ``MalformedPacket``, all counted.

Inputs: valid notifications of each family (``tests/unit/test_fuzz_decoders.py``'s seeds) with 1–4
mutations each (bit flip, byte set, cut short, extended, spliced with another seed), and one in
five wholly random (0–260 bytes). Each decoder's notifications go through one
:class:`~gaitmon.sensors.decoder.DecodeStats`, as in a live stream (WitMotion keeps its reassembly
state across them). Any exception but ``MalformedPacket``, or any warning, stops the run with the
input that caused it. Printed per decoder: inputs, accepted, malformed (raised), junk fragments
counted inside accepted notifications (WitMotion), and the check that every input was counted.

Run: ``python benchmarks/bench_fuzz_decoders.py [--n 1000000] [--seed 0]``
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))
from test_fuzz_decoders import PARSERS, SEEDS, decoders  # noqa: E402

from gaitmon.sensors.decoder import DecodeStats, MalformedPacket  # noqa: E402


def fuzzed(seeds: list[bytes], n: int, rng: np.random.Generator):
    """``n`` mutated or random notifications."""
    for _ in range(n):
        if rng.random() < 0.2:
            yield rng.bytes(int(rng.integers(0, 261)))
            continue
        data = bytearray(seeds[int(rng.integers(len(seeds)))])
        for _ in range(int(rng.integers(1, 5))):
            op = int(rng.integers(5))
            if op == 0 and data:
                data[int(rng.integers(len(data)))] ^= 1 << int(rng.integers(8))
            elif op == 1 and data:
                data[int(rng.integers(len(data)))] = int(rng.integers(256))
            elif op == 2:
                del data[int(rng.integers(len(data) + 1)):]
            elif op == 3:
                data += rng.bytes(int(rng.integers(1, 25)))
            else:
                other = seeds[int(rng.integers(len(seeds)))]
                data[int(rng.integers(len(data) + 1)):] = other[int(rng.integers(len(other) + 1)):]
        yield bytes(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="notifications per decoder and parser")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    warnings.simplefilter("error")
    print(f"{'decoder / parser':28s} {'inputs':>9s} {'accepted':>9s} {'malformed':>9s} {'junk in acc.':>12s} "
          f"{'all counted':>11s} {'µs/input':>9s}")
    for name, (family, decoder) in sorted(decoders().items()):
        rng = np.random.default_rng(args.seed)
        stats = DecodeStats()
        raised = junk = 0
        started = time.perf_counter()
        for data in fuzzed(SEEDS[family], args.n, rng):
            try:
                packet = stats.decode(decoder, data)
            except Exception as error:  # anything but MalformedPacket escaped DecodeStats
                sys.exit(f"{name}: {type(error).__name__}: {error} on {data.hex()}")
            if packet is None:
                raised += 1
            else:
                junk += packet.info.get("malformed_fragments", 0)
        elapsed = time.perf_counter() - started
        counted = stats.packets + raised == args.n and stats.malformed == raised + junk
        print(f"{name:28s} {args.n:9d} {stats.packets:9d} {raised:9d} {junk:12d} {str(counted):>11s} "
              f"{elapsed / args.n * 1e6:9.1f}")
    for name, (family, parse) in sorted(PARSERS.items()):
        rng = np.random.default_rng(args.seed)
        accepted = rejected = 0
        started = time.perf_counter()
        for data in fuzzed(SEEDS[family], args.n, rng):
            try:
                parse(data)
                accepted += 1
            except MalformedPacket:
                rejected += 1
            except Exception as error:
                sys.exit(f"{name}: {type(error).__name__}: {error} on {data.hex()}")
        elapsed = time.perf_counter() - started
        print(f"{name:28s} {args.n:9d} {accepted:9d} {rejected:9d} {'-':>12s} {str(accepted + rejected == args.n):>11s} "
              f"{elapsed / args.n * 1e6:9.1f}")


if __name__ == "__main__":
    main()
