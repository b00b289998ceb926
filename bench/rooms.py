#!/usr/bin/env python3
"""Big-room benchmark (DESIGN.md section 7).

Builds a 10,000-member room from synthetic identities, then measures, in one run:
  - `room remove` of one member by the admin (9,998 recipients),
  - a member's `receive` of that commit (which includes the member's own rotation, 9,998 seals),
  - a member's `receive` of a bundle that carries only a sender key,
  - `roomkey id` on a keyring without passphrase,
next to the reference: a C loop of 9,998 crypto_box_seal calls on one core, compiled from bench/seal_loop.c.
Wall time and peak memory (max RSS) come from wait4() on each child. Targets: ratio <= 0.75, peak <= 150 MB,
sender-key-only receive <= 50 ms, `id` <= 50 ms.

Usage: bench/rooms.py [--members N] [--repeat R] [--pq]   (release build of roomkey and roomkey-bench first)

--pq: every member on a version 2 card (X-Wing key), so every stanza is X-Wing HPKE; the references are then also
a loop of 9,998 X-Wing HPKE seals on one core (roomkey-bench xwing-seal-loop), compared in CPU time.
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(args, env=None, quiet=True):
    """Runs a command; returns (seconds, max RSS in MB, stdout, CPU seconds)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        p = subprocess.Popen(args, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(p.pid, 0)
        elapsed = time.perf_counter() - start
        out.seek(0); err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            sys.exit(f"bench: {' '.join(args)} exited {code}\n{stdout}{stderr}")
        return elapsed, usage.ru_maxrss / 1024.0, stdout, usage.ru_utime + usage.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--pq", action="store_true", help="version 2 cards for everyone (X-Wing stanzas)")
    opts = ap.parse_args()
    rk = os.path.join(ROOT, ".build/release/roomkey")
    gen = os.path.join(ROOT, ".build/release/roomkey-bench")
    for b in (rk, gen):
        if not os.path.exists(b):
            sys.exit(f"bench: {b} missing; run: swift build -c release --product roomkey && swift build -c release --product roomkey-bench")
    work = tempfile.mkdtemp(prefix="roomkey-bench-")
    ref_bin = os.path.join(work, "seal_loop")
    subprocess.run(["cc", "-O2", "-o", ref_bin, os.path.join(ROOT, "bench/seal_loop.c"), "-lsodium"], check=True)
    recipients = opts.members - 2

    def env(who):
        e = dict(os.environ)
        e["ROOMKEY_KEYRING"] = os.path.join(work, who, "keyring.sqlite")
        e.pop("ROOMKEY_PASSPHRASE_FILE", None)
        return e

    synthetic = opts.members - 2  # the admin and bob are real keyrings
    cards, names = os.path.join(work, "cards"), os.path.join(work, "names")
    t, _, _, _ = timed([gen, "cards", str(synthetic), cards, names] + (["pq"] if opts.pq else []))
    print(f"setup: {synthetic} synthetic identities in {t:.1f} s")
    for who in ("admin", "bob"):
        timed([rk, "init", "--name", who, "--no-passphrase", "-q"], env(who))
        timed([rk, "id", "export", "-o", os.path.join(work, who + ".card")], env(who))
    with open(cards, "a") as f, open(os.path.join(work, "bob.card")) as b:
        f.write(b.read())
    with open(names, "a") as f:
        f.write("bob\n")
    t, _, _, _ = timed([rk, "contact", "add", cards, "-q"], env("admin"))
    print(f"setup: admin imports {synthetic + 1} cards in {t:.2f} s")
    timed([rk, "contact", "add", os.path.join(work, "admin.card"), "-q"], env("bob"))
    genesis = os.path.join(work, "genesis.roomkey")
    t, m, _, _ = timed([rk, "room", "create", "big", "--members-file", names, "-o", genesis], env("admin"))
    print(f"setup: room create with {opts.members} members in {t:.2f} s ({m:.0f} MB)")
    outbox = os.path.join(work, "outbox")
    t, m, _, _ = timed([rk, "receive", genesis, "--outbox", outbox], env("bob"))
    print(f"setup: bob joins (checks {opts.members} cards, rotates) in {t:.2f} s ({m:.0f} MB)")

    ref = statistics.median(float(subprocess.run([ref_bin, str(recipients)], capture_output=True, text=True, check=True).stdout)
                            for _ in range(opts.repeat))
    ref_runs = [timed([ref_bin, str(recipients)]) for _ in range(opts.repeat)]
    ref_cpu = statistics.median(r[3] for r in ref_runs)
    pq_runs = [timed([gen, "xwing-seal-loop", str(recipients)])[2].split() for _ in range(opts.repeat)]
    pq_wall = statistics.median(float(r[0]) for r in pq_runs)
    pq_cpu = statistics.median(float(r[1]) for r in pq_runs)
    removes, receives, keyonly, ids, sizes = [], [], [], [], []
    for i in range(opts.repeat):
        bundle = os.path.join(work, f"remove-{i}.roomkey")
        r = timed([rk, "room", "remove", "big", f"m{i + 1:06d}", "-o", bundle], env("admin"))
        removes.append((r[0], r[1], r[3]))
        sizes.append(os.path.getsize(bundle) / (opts.members - 2 - i))
        r = timed([rk, "receive", bundle, "--outbox", outbox], env("bob"))
        receives.append((r[0], r[1], r[3]))
        rot = os.path.join(work, f"rotate-{i}.roomkey")
        timed([rk, "room", "rotate", "big", "-o", rot], env("admin"))
        keyonly.append(timed([rk, "receive", rot, "--outbox", outbox], env("bob"))[:2])
        ids.append(timed([rk, "id"], env("bob"))[:2])
    # After each removal the room shrinks by one; the recipient counts stay within `repeat` of 9,998.

    def row(name, samples, target):
        t = statistics.median(s[0] for s in samples)
        m = max(s[1] for s in samples)
        return t, m, f"{name:<40} {t * 1000:9.1f} ms  {m:6.0f} MB  {target}"

    print(f"\nreference: C loop, {recipients} crypto_box_seal on one core: {ref * 1000:.1f} ms (median of {opts.repeat})")
    t1, m1, l1 = row("room remove (admin, 1 member)", removes, "")
    t2, m2, l2 = row("receive of that commit (member)", receives, "")
    t3, m3, l3 = row("receive, sender key only (member)", keyonly, "target <= 50 ms")
    t4, m4, l4 = row("roomkey id (no passphrase)", ids, "target <= 50 ms")
    print(l1 + f"ratio {t1 / ref:.2f} (target <= 0.75), peak target <= 150 MB")
    print(l2 + f"ratio {t2 / ref:.2f} (target <= 0.75), peak target <= 150 MB")
    print(l3)
    print(l4)
    c1 = statistics.median(s[2] for s in removes)
    c2 = statistics.median(s[2] for s in receives)
    print(f"\nCPU time (median of {opts.repeat}); the machine may be busy, so wall times above can be inflated:")
    print(f"reference: C loop, {recipients} crypto_box_seal, one core: {ref_cpu * 1000:.1f} ms CPU")
    print(f"reference: {recipients} X-Wing HPKE seals, one core: {pq_cpu * 1000:.1f} ms CPU ({pq_wall * 1000:.1f} ms wall), "
          f"{pq_cpu / ref_cpu:.1f} x the crypto_box_seal loop")
    floor, fname = (pq_cpu, "X-Wing loop") if opts.pq else (ref_cpu, "crypto_box_seal loop")
    limit = 1.1 if opts.pq else 1.05
    print(f"room remove: {c1 * 1000:.1f} ms CPU, {c1 / floor:.2f} x the {fname} (target <= {limit})")
    print(f"receive of it: {c2 * 1000:.1f} ms CPU, {c2 / floor:.2f} x the {fname} (target <= {limit})")
    print(f"bundle size per member: {statistics.median(sizes):.1f} bytes ({'v2 cards, X-Wing stanzas' if opts.pq else 'v1 stanzas'})")
    print(f"peak memory: room remove {m1:.0f} MB, receive {m2:.0f} MB (target <= {200 if opts.pq else 150} MB)")
    ok = t1 / ref <= 0.75 and t2 / ref <= 0.75 and m1 <= 150 and m2 <= 150 and t3 <= 0.05 and t4 <= 0.05
    print("\nall targets met" if ok else "\nsome targets missed")


if __name__ == "__main__":
    main()
