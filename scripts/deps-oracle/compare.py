"""Runs each object of a cases file (gen.py) through the oracle's answers and through
`karmada-takeover deps --resource FILE -o json`, and counts the differences: the dependencies must
be equal, and where Karmada fails, `deps` must exit 2.

Usage: compare.py CASES ORACLE_OUTPUT KARMADA_TAKEOVER_BINARY
"""
import json, subprocess, sys, os, tempfile
cases = open(sys.argv[1]).read().splitlines()
go = open(sys.argv[2]).read().splitlines()
assert len(go) == len(cases), (len(go), len(cases))
bad = 0; errs = 0; nonempty = 0
d = tempfile.mkdtemp()
for i, (case, want) in enumerate(zip(cases, go)):
    p = os.path.join(d, "o.json"); open(p, "w").write(case)
    r = subprocess.run([sys.argv[3], "deps", "--resource", p, "-o", "json"], capture_output=True, text=True)
    want = json.loads(want)
    if "error" in want:
        errs += 1
        ok = r.returncode == 2
    else:
        ok = r.returncode == 0 and json.loads(r.stdout) == want
        nonempty += bool(want["dependencies"])
    if not ok:
        bad += 1
        if bad <= 5:
            print("MISMATCH", i, case, "\n karmada:", json.dumps(want), "\n ours:", r.returncode, r.stdout.strip(), r.stderr.strip()[:300])
print(f"{len(cases)} cases, {errs} Karmada errors, {nonempty} with dependencies, {bad} mismatches")
sys.exit(1 if bad else 0)
