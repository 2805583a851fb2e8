#!/usr/bin/env python3
"""The generated man pages and completions, checked against the option tables they come from.

Usage: check_docs.py man|bash|zsh PARKIT DOCS_DIR
  man:  every command of `parkit --help` (and `scale grain`) has its page; every page renders
        without a warning (groff -ww, or mandoc -T lint); every non-hidden option of the
        command (its own and the shared ones it takes) is in its page, long and short name.
  bash: the completion, sourced in bash and called as bash calls it, offers every command,
        each command's options, exactly the choices of every enum option (resize --filter
        among them, also as --filter=), and files where an option takes a path.
  zsh:  the completion parses (zsh -n); completed in an interactive zsh (zsh_complete.zsh), it
        offers every command, each command's long options and exactly each enum's choices
        (skipped, exit 77, without zsh).
Exit 0 when all hold, 1 listing every failure, 77 when the tool it needs is missing."""
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)


def specs(parkit):
    block = run([parkit, "--help"]).stdout.split("Commands:", 1)[1].split("\n\n", 1)[0]
    names = [m.group(1) for m in re.finditer(r"^  (\w+) ", block, re.M)]
    out = []
    for n in names + ["scale grain"]:
        r = run([parkit] + n.split() + ["--options-json"])
        if r.returncode != 0:
            sys.exit(f"parkit {n} --options-json: exit {r.returncode}: {r.stderr}")
        out.append(json.loads(r.stdout))
    return names, out


def visible(spec):
    return [o for o in spec["options"] + spec["shared"] if not o["hidden"]]


def check_man(parkit, ddir, errors):
    names, all_specs = specs(parkit)
    groff, mandoc = shutil.which("groff"), shutil.which("mandoc")
    if not groff and not mandoc:
        print("no groff and no mandoc: skipped (cmake/deps.sh installs groff-base)")
        sys.exit(77)
    pages = ["parkit.1"] + ["parkit-%s.1" % s["command"].replace(" ", "-") for s in all_specs]
    for page in pages:
        path = os.path.join(ddir, page)
        if not os.path.isfile(path):
            errors.append(f"{page}: missing")
            continue
        if groff:
            r = run([groff, "-ww", "-z", "-man", "-Tutf8", path])
        else:
            r = run([mandoc, "-T", "lint", "-W", "warning", path])
        if r.returncode != 0 or r.stderr.strip() or (not groff and r.stdout.strip()):
            errors.append(f"{page}: renders with warnings: {(r.stderr + r.stdout).strip()}")
    main = open(os.path.join(ddir, "parkit.1"), encoding="utf-8").read()
    for n in names:
        if "\\fBparkit\\-%s\\fR(1)" % n not in main:
            errors.append(f"parkit.1: command {n} is not listed")
    for spec in all_specs:
        page = "parkit-%s.1" % spec["command"].replace(" ", "-")
        path = os.path.join(ddir, page)
        if not os.path.isfile(path):
            continue
        text = open(path, encoding="utf-8").read()
        for o in visible(spec):
            if not re.search(r"\\fB\\-\\-%s\\fR" % re.escape(o["name"].replace("-", "\\-")), text):
                errors.append(f"{page}: option --{o['name']} is not in the page")
            if o.get("short") and "\\fB\\-%s\\fR, \\fB\\-\\-%s" % (
                    o["short"], o["name"].replace("-", "\\-")) not in text:
                errors.append(f"{page}: -{o['short']} is not shown with --{o['name']}")
            for c in o.get("choices", []) if o["kind"] == "enum" and o not in spec["shared"] else []:
                if "\\fB%s\\fR" % c.replace("-", "\\-") not in text:
                    errors.append(f"{page}: --{o['name']} choice {c} is not in the page")
        for o in spec["options"] + spec["shared"]:
            if o["hidden"] and re.search(r"\\fB\\-\\-%s\\fR" % re.escape(o["name"].replace("-", "\\-")), text):
                errors.append(f"{page}: hidden option --{o['name']} is shown")


BASH = r'''
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
_parkit parkit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(ddir, words, cwd=None):
    r = run(["bash", "--norc", "--noprofile", "-c", BASH, "bash",
             os.path.join(ddir, "parkit.bash")] + words, cwd=cwd)
    if r.returncode != 0 or r.stderr.strip():
        return None, f"bash: exit {r.returncode}: {r.stderr.strip()}"
    return sorted(x for x in r.stdout.split("\n") if x), None


def expect(errors, ddir, words, want, exact=True, cwd=None):
    got, err = complete(ddir, words, cwd)
    if err:
        errors.append(f"{' '.join(words)!r}<TAB>: {err}")
        return
    want = sorted(want)
    if (got != want) if exact else not set(want) <= set(got):
        errors.append(f"{' '.join(words)!r}<TAB>: offered {got}, expected "
                      f"{'exactly ' if exact else 'at least '}{want}")


def enum_example(by):
    """(command, option) of the issue's example, resize --filter, where resize is in the build;
    else the first enum option that is not --format (a build without the images part)."""
    if "resize" in by:
        return "resize", next(o for o in by["resize"]["options"] if o["name"] == "filter")
    return next((s["command"], o) for s in by.values() for o in visible(s)
                if o["kind"] == "enum" and o["name"] != "format")


def dir_example(by):
    """(command, option) of an option that takes a directory: resize --out where it is built."""
    if "resize" in by:
        return "resize", "out"
    return next((s["command"], o["name"]) for s in by.values() for o in visible(s)
                if o["kind"] == "path" and o.get("arg") == "DIR")


def check_bash(parkit, ddir, errors):
    if not shutil.which("bash"):
        sys.exit(77)
    names, all_specs = specs(parkit)
    expect(errors, ddir, ["parkit", ""], names)
    expect(errors, ddir, ["parkit", "re"], [n for n in names if n.startswith("re")])
    by = {s["command"]: s for s in all_specs}
    # the issue's own example, both spellings
    cmd, filt = enum_example(by)
    flag, first = "--" + filt["name"], filt["choices"][0][0]
    words = ["parkit"] + cmd.split()
    expect(errors, ddir, words + [flag, ""], filt["choices"])
    ell = [c for c in filt["choices"] if c.startswith(first)]
    expect(errors, ddir, words + ["in.jpg", flag + "=" + first], ell)
    # bash splits --filter=l at the '=' (COMP_WORDBREAKS): the words the function then sees
    expect(errors, ddir, words + [flag, "=", first], ell)
    expect(errors, ddir, words + [flag, "="], filt["choices"])
    for spec in all_specs:
        words = ["parkit"] + spec["command"].split()
        opts = []
        for o in visible(spec) + [{"name": "help", "short": "h"}]:
            opts.append("--" + o["name"])
            if o.get("short"):
                opts.append("-" + o["short"])
        expect(errors, ddir, words + ["-"], opts)
        for o in visible(spec):
            if o["kind"] == "enum":
                want = spec["formats"] if (o["name"] == "format" and o in spec["shared"]) else o["choices"]
                expect(errors, ddir, words + ["--" + o["name"], ""], want)
    # files where an option takes a path, directories where it takes a DIR
    tmp = os.path.abspath("check_docs_tree")
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "subdir"))
    open(os.path.join(tmp, "data.f64"), "w").close()
    expect(errors, ddir, ["parkit", "sumsq", "--file", ""], ["data.f64", "subdir"], cwd=tmp)
    cmd, opt = dir_example(by)
    expect(errors, ddir, ["parkit"] + cmd.split() + ["--" + opt, ""], ["subdir"], cwd=tmp)
    expect(errors, ddir, ["parkit", "scale", "grain", "--"], ["--chunk", "--total"], exact=False)
    expect(errors, ddir, ["parkit", "scale", "gr"], ["grain"])
    shutil.rmtree(tmp, ignore_errors=True)


def check_zsh(parkit, ddir, errors):
    zsh = shutil.which("zsh")
    if not zsh:
        print("no zsh: skipped")
        sys.exit(77)
    path = os.path.join(ddir, "_parkit")
    r = run([zsh, "-n", path])
    if r.returncode != 0:
        errors.append(f"_parkit: zsh -n: {r.stderr.strip()}")
    text = open(path, encoding="utf-8").read()
    names, all_specs = specs(parkit)
    for n in names:
        if "'%s:" % n not in text:
            errors.append(f"_parkit: command {n} missing")
    for spec in all_specs:
        for o in visible(spec):
            if "--" + o["name"] not in text:
                errors.append(f"_parkit: {spec['command']} --{o['name']} missing")
    # completed for real: an interactive zsh on a pseudo-terminal, compadd wrapped to print
    helper = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zsh_complete.zsh")

    def zexpect(line, want, exact=True):
        try:
            r = subprocess.run([zsh, "-f", helper, ddir, line], capture_output=True, text=True,
                               timeout=30)
        except subprocess.TimeoutExpired:
            errors.append(f"zsh {line!r}<TAB>: no answer in 30 s")
            return
        if r.returncode == 77:
            print("no zsh/zpty: completion runs skipped")
            return
        got = sorted(x for x in r.stdout.split("\n") if x)
        want = sorted(want)
        if (got != want) if exact else not set(want) <= set(got):
            errors.append(f"zsh {line!r}<TAB>: offered {got}, expected "
                          f"{'exactly ' if exact else 'at least '}{want}")

    by = {s["command"]: s for s in all_specs}
    cmd, filt = enum_example(by)
    cases = [("parkit ", names), ("parkit %s --%s " % (cmd, filt["name"]), filt["choices"])]
    # a real zsh per case costs about a second: a few commands' options and enums here; every
    # option of every command is checked in the script's text above and by the bash run
    for spec in (by["sumsq"], by[cmd], by["scale grain"]):
        line = "parkit %s " % spec["command"]
        cases.append((line + "--", ["--" + o["name"] for o in visible(spec)] + ["--help"]))
    cases.append(("parkit sumsq --format ", by["sumsq"]["formats"]))
    # two at a time: each is a fresh interactive zsh running compinit (about half a second)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: zexpect(*c), cases))


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("man", "bash", "zsh"):
        sys.exit(__doc__)
    what, parkit, ddir = sys.argv[1:]
    errors = []
    {"man": check_man, "bash": check_bash, "zsh": check_zsh}[what](parkit, ddir, errors)
    for e in errors:
        print(e)
    if errors:
        sys.exit(1)
    print(f"{what}: ok")


if __name__ == "__main__":
    main()
