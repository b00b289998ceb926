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

Usage: bench/rooms.py [--members N] [--repeat R]   (release build of roomkey and roomkey-bench first)
"""
import argparse, os, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(args, env=None, quiet=True):
    """Runs a command; returns (seconds, max RSS in MB, stdout)."""
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
        return elapsed, usage.ru_maxrss / 1024.0, stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
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
    t, _, _ = timed([gen, "cards", str(synthetic), cards, names])
    print(f"setup: {synthetic} synthetic identities in {t:.1f} s")
    for who in ("admin", "bob"):
        timed([rk, "init", "--name", who, "--no-passphrase", "-q"], env(who))
        timed([rk, "id", "export", "-o", os.path.join(work, who + ".card")], env(who))
    with open(cards, "a") as f, open(os.path.join(work, "bob.card")) as b:
        f.write(b.read())
    with open(names, "a") as f:
        f.write("bob\n")
    t, _, _ = timed([rk, "contact", "add", cards, "-q"], env("admin"))
    print(f"setup: admin imports {synthetic + 1} cards in {t:.2f} s")
    timed([rk, "contact", "add", os.path.join(work, "admin.card"), "-q"], env("bob"))
    genesis = os.path.join(work, "genesis.roomkey")
    t, m, _ = timed([rk, "room", "create", "big", "--members-file", names, "-o", genesis], env("admin"))
    print(f"setup: room create with {opts.members} members in {t:.2f} s ({m:.0f} MB)")
    outbox = os.path.join(work, "outbox")
    t, m, _ = timed([rk, "receive", genesis, "--outbox", outbox], env("bob"))
    print(f"setup: bob joins (checks {opts.members} cards, rotates) in {t:.2f} s ({m:.0f} MB)")

    ref = statistics.median(float(subprocess.run([ref_bin, str(recipients)], capture_output=True, text=True, check=True).stdout)
                            for _ in range(opts.repeat))
    removes, receives, keyonly, ids = [], [], [], []
    for i in range(opts.repeat):
        bundle = os.path.join(work, f"remove-{i}.roomkey")
        removes.append(timed([rk, "room", "remove", "big", f"m{i + 1:06d}", "-o", bundle], env("admin"))[:2])
        receives.append(timed([rk, "receive", bundle, "--outbox", outbox], env("bob"))[:2])
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
    ok = t1 / ref <= 0.75 and t2 / ref <= 0.75 and m1 <= 150 and m2 <= 150 and t3 <= 0.05 and t4 <= 0.05
    print("\nall targets met" if ok else "\nsome targets missed")


if __name__ == "__main__":
    main()
