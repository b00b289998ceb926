# Sourced by the other scripts: finds the Swift toolchain and the package root.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# How the release binary is built (scripts/install, scripts/demo, Benchmarks/run): with the Swift runtime linked in,
# so the installed roomkey does not need the toolchain's libraries and starts without loading and binding them.
RELEASE_BUILD=(--configuration release --static-swift-stdlib)
