#!/usr/bin/env python3
"""Seeds for fuzz/fuzz_baseline_profile.c: profiles the baseline modules
saved for the bundled samples, in the target's input format (a byte for the
module, one for the kind, the entity, NUL, the blob).

    scripts/bl-profile-seeds.py [KENCHI] [OUTDIR]

runs `KENCHI scan --store` on samples/ (with learning: 0s, so that every
module holds something) and writes the profiles of at most 8,000 bytes,
a few per module, to OUTDIR (default fuzz/corpus/fuzz_baseline_profile)."""
import os, sqlite3, subprocess, sys, tempfile

KENCHI = sys.argv[1] if len(sys.argv) > 1 else "build/release/kenchi"
OUT = sys.argv[2] if len(sys.argv) > 2 else "fuzz/corpus/fuzz_baseline_profile"
MODULES = ["account", "application", "host", "spraying"]  # the engine's order
KINDS = ["account", "application", "host", "source"]
PER_MODULE = 4

with tempfile.TemporaryDirectory() as tmp:
    cfg = os.path.join(tmp, "k.yml")
    with open(cfg, "w") as f:
        f.write("baselines:\n  learning: 0s\n")
    db = os.path.join(tmp, "k.db")
    subprocess.run([KENCHI, "scan", "--store", db, "--no-rules", "--config", cfg, "--year",
                    "2024", "--timezone", "UTC", "-o", "jsonl", "samples"],
                   check=True, capture_output=True)
    con = sqlite3.connect(db)
    os.makedirs(OUT, exist_ok=True)
    for m, module in enumerate(MODULES):
        rows = con.execute("SELECT kind, entity, blob FROM bl_profiles WHERE module=? AND"
                           " length(blob) <= 8000 ORDER BY length(blob) DESC, entity",
                           (module,)).fetchall()
        for i, (kind, entity, blob) in enumerate(rows[:PER_MODULE]):
            data = bytes([m, KINDS.index(kind)]) + entity.encode() + b"\0" + blob
            with open(os.path.join(OUT, f"{module}-{i}"), "wb") as f:
                f.write(data)
            print(f"{module}-{i}: {kind} {entity} ({len(blob)} bytes)")
