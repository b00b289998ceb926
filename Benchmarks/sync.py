#!/usr/bin/env python3
"""Git sync benchmark (DESIGN.md section 7, issue 14).

A room of N members (default 1,000: an admin, bob, and synthetic identities) on a bare git repository. bob syncs at
epoch 0 and goes offline; the admin makes E epochs (default 100), each the removal of one member published by its
own sync. Then, from the same starting copy of bob's keyring:
  - bob's single `roomkey sync` (fetch, receive everything new, rotate, push his own key), and
  - `roomkey receive` of exactly the bundles that sync received, from a folder,
each R times (default 3), medians compared: target sync <= 1.5 x receive. Also the bytes the sync's fetch added to
bob's mirror (git objects) against the bytes of the bundles he needed: target <= 1.2.

The sync is measured twice: against the bare repository as the pushes left it (every small push unpacked into loose
objects, so the server's `pack-objects` compresses and delta-searches each of them again for bob's fetch), and after
`git gc` on it, the housekeeping every git host runs (objects in one pack, sent as they are). The server's work is
part of bob's wall time in both, because the server runs on this machine.

Usage: Benchmarks/sync.py [--members N] [--epochs E] [--repeat R] [--build-dir .build/release]
(build first, as Benchmarks/run and scripts/install do: swift build -c release --static-swift-stdlib --product roomkey && swift build -c release --static-swift-stdlib --product roomkey-bench)
"""
import argparse, os, shutil, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(args, env=None, cwd=None):
    """Runs a command; returns (seconds, stdout); exits on failure."""
    start = time.perf_counter()
    p = subprocess.run(args, env=env, cwd=cwd, capture_output=True, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(args)} exited {p.returncode}\n{p.stdout.decode()}{p.stderr.decode()}")
    return elapsed, p.stdout


def tree_bytes(path):
    total = 0
    for folder, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(folder, f)) for f in files)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--members", type=int, default=1000)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--build-dir", default=os.path.join(ROOT, ".build/release"))
    opts = ap.parse_args()
    rk, gen = os.path.join(opts.build_dir, "roomkey"), os.path.join(opts.build_dir, "roomkey-bench")
    for b in (rk, gen):
        if not os.path.exists(b):
            sys.exit(f"bench: {b} missing; build roomkey and roomkey-bench first")
    work = tempfile.mkdtemp(prefix="roomkey-sync-bench-")

    def env(who, state=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("ROOMKEY_")}
        e["ROOMKEY_KEYRING"] = os.path.join(work, who, "keyring.sqlite")
        e["XDG_STATE_HOME"] = state or os.path.join(work, who, "state")
        e["ROOMKEY_OUTBOX"] = os.path.join(work, who, "outbox")
        return e

    synthetic = opts.members - 2
    cards, names = os.path.join(work, "cards"), os.path.join(work, "names")
    run([gen, "cards", str(synthetic), cards, names])
    for who in ("admin", "bob"):
        run([rk, "init", "--name", who, "--no-passphrase", "-q"], env(who))
        run([rk, "id", "export", "-o", os.path.join(work, who + ".card")], env(who))
    with open(cards, "a") as f, open(os.path.join(work, "bob.card")) as b:
        f.write(b.read())
    with open(names, "a") as f:
        f.write("bob\n")
    run([rk, "contact", "add", cards, "-q"], env("admin"))
    run([rk, "contact", "add", os.path.join(work, "admin.card"), "-q"], env("bob"))
    run([rk, "room", "create", "big", "--members-file", names, "-q"], env("admin"))
    bare = os.path.join(work, "remote.git")
    run(["git", "init", "--bare", "-q", bare])
    for who in ("admin", "bob"):
        run([rk, "remote", "add", "origin", bare, "-q"], env(who))
    run([rk, "sync", "-q"], env("admin"))
    run([rk, "sync", "-q"], env("bob"))
    marker = run(["git", "-C", bare, "rev-parse", "main"])[1].decode().strip()
    # bob goes offline: keep his keyring and mirror as they are now.
    snapshot = os.path.join(work, "bob-at-0")
    shutil.copytree(os.path.join(work, "bob"), snapshot)
    start = time.perf_counter()
    names_list = [l.strip() for l in open(names) if l.strip() and l.strip() != "bob"]
    for e in range(opts.epochs):
        run([rk, "room", "remove", "big", names_list[e], "-q"], env("admin"))
    print(f"setup: {opts.members} members, {opts.epochs} epochs published in {time.perf_counter() - start:.1f} s")
    tip = run(["git", "-C", bare, "rev-parse", "main"])[1].decode().strip()
    changed = run(["git", "-C", bare, "diff", "--name-only", "--diff-filter=AM", marker, tip])[1].decode().split()
    bob_id = run([rk, "id", "--json"], env("bob"))[1].decode().split('"id":"')[1][:32]
    needed = [p for p in changed if f"/{bob_id}-" not in p]
    folder = os.path.join(work, "folder")
    os.makedirs(folder)
    for i, path in enumerate(sorted(needed)):
        data = subprocess.run(["git", "-C", bare, "show", f"{tip}:{path}"], capture_output=True, check=True).stdout
        with open(os.path.join(folder, f"{i:05d}.roomkey"), "wb") as f:
            f.write(data)
    bundle_bytes = tree_bytes(folder)
    def measure(packed):
        syncs, receives, fetched = [], [], []
        for i in range(opts.repeat):
            for side in ("sync", "receive"):
                who = f"bob-{side}-{i}-{'packed' if packed else 'loose'}"
                shutil.copytree(snapshot, os.path.join(work, who))
                # The copied keyring keeps bob's state folder (his mirror) inside its own folder.
                state = os.path.join(work, who, "state")
                if side == "sync":
                    remotes = os.path.join(state, "roomkey", "remotes")
                    # The mirror is remotes/NAME-HASH (HASH of bob's identity and the URL), so the copy keeps bob's.
                    name = next(n for n in os.listdir(remotes) if n.startswith("origin-"))
                    mirror = os.path.join(remotes, name, "objects")
                    before = tree_bytes(mirror)
                    syncs.append(run([rk, "sync", "-q"], env(who, state))[0])
                    fetched.append(tree_bytes(mirror) - before)
                else:
                    receives.append(run([rk, "receive", folder, "-q"], env(who, state))[0])
        return syncs, receives, fetched

    print(f"bundles bob needed: {len(needed)} files, {bundle_bytes / 1e6:.2f} MB")
    for packed in (False, True):
        if packed:
            run(["git", "-C", bare, "gc", "-q"])
        syncs, receives, fetched = measure(packed)
        s, r = statistics.median(syncs), statistics.median(receives)
        label = "server packed by git gc" if packed else "server as pushed (loose objects)"
        print(f"[{label}]")
        print(f"  sync (one, offline {opts.epochs} epochs): {s:.2f} s (range {min(syncs):.2f}-{max(syncs):.2f})")
        print(f"  receive of the same bundles from a folder: {r:.2f} s (range {min(receives):.2f}-{max(receives):.2f})")
        print(f"  ratio sync / receive: {s / r:.2f} (target <= 1.5: {'holds' if s / r <= 1.5 else 'missed'})")
        f = statistics.median(fetched)
        print(f"  bytes fetched into bob's mirror: {f / 1e6:.2f} MB, {f / bundle_bytes:.2f} x the bundles "
              f"(target <= 1.2: {'holds' if f / bundle_bytes <= 1.2 else 'missed'})")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
