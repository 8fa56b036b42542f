"""Check what ansible-builder makes of the collection (scripts/test.sh, step ee).

Usage: python scripts/check_ee.py <installed collection> <introspection output> <build context> <galaxy.yml>

- <installed collection>: dcos.marathon installed from its built tarball, so only what ships counts;
- <introspection output>: what `ansible-builder introspect` printed for the collections path holding it;
- <build context>: what `ansible-builder create -f tests/ee/execution-environment.yml` wrote.

The collection's requirements.txt and bindep.txt must be what meta/execution-environment.yml names,
what the introspection attributes to dcos.marathon, and what the build context carries; the context's
galaxy requirements must hold dcos.marathon and every dependency in galaxy.yml with its version.
Prints one line per problem and exits 1 when there is any.
"""

import sys
from pathlib import Path

import yaml

COLLECTION = "dcos.marathon"
FROM_COLLECTION = "  # from collection "


def requirement_lines(path):
    """The entries of a pip or bindep file: no comments, no blank lines."""
    entries = []
    for line in Path(path).read_text().splitlines():
        entry = line.split("#", 1)[0].strip()
        if entry:
            entries.append(entry)
    return entries


def check(installed, introspection, context, galaxy_file):
    problems = []
    installed, context = Path(installed), Path(context)

    meta_file = installed / "meta" / "execution-environment.yml"
    if not meta_file.is_file():
        return ["the built collection has no meta/execution-environment.yml"]
    meta = yaml.safe_load(meta_file.read_text()) or {}
    named = meta.get("dependencies") or {}
    if meta.get("version") != 1:
        problems.append("meta/execution-environment.yml: version must be 1, not %r" % meta.get("version"))
    expected = {}
    for kind, filename in (("python", "requirements.txt"), ("system", "bindep.txt")):
        if named.get(kind) != filename:
            problems.append("meta/execution-environment.yml: dependencies.%s must be %s, not %r" % (kind, filename, named.get(kind)))
        if not (installed / filename).is_file():
            problems.append("the built collection has no %s (build_ignore in galaxy.yml?)" % filename)
            continue
        expected[kind] = requirement_lines(installed / filename)
        if not expected[kind]:
            problems.append("%s of the built collection lists nothing" % filename)

    # introspect prints a YAML document of "requirement  # from collection ns.name" lines.
    text = Path(introspection).read_text()
    found = yaml.safe_load(text[text.index("---"):]) if "---" in text else {}
    for kind, entries in expected.items():
        ours = [line.split(FROM_COLLECTION)[0] for line in (found.get(kind) or []) if line.endswith(FROM_COLLECTION + COLLECTION)]
        if ours != entries:
            problems.append("ansible-builder introspect: %s of %s is %s, expected %s" % (kind, COLLECTION, ours, entries))

    build = context / "_build"
    if not any((context / name).is_file() for name in ("Containerfile", "Dockerfile")):
        problems.append("the build context has no Containerfile")
    for kind, filename in (("python", "requirements.txt"), ("system", "bindep.txt")):
        if kind not in expected:
            continue
        if not (build / filename).is_file():
            problems.append("the build context has no _build/%s" % filename)
        elif requirement_lines(build / filename) != expected[kind]:
            problems.append("_build/%s of the build context differs from the collection's %s" % (filename, filename))

    galaxy_requirements = build / "requirements.yml"
    if not galaxy_requirements.is_file():
        problems.append("the build context has no _build/requirements.yml (galaxy)")
    else:
        wanted = {entry["name"]: entry.get("version", "*")
                  for entry in (yaml.safe_load(galaxy_requirements.read_text()) or {}).get("collections", [])}
        if COLLECTION not in wanted:
            problems.append("_build/requirements.yml does not install %s" % COLLECTION)
        dependencies = (yaml.safe_load(Path(galaxy_file).read_text()) or {}).get("dependencies") or {}
        for name, version in dependencies.items():
            if wanted.get(name) != version:
                problems.append("_build/requirements.yml: %s is %r, galaxy.yml's dependencies say %r" % (name, wanted.get(name), version))
    return problems


def main(argv):
    problems = check(*argv)
    for problem in problems:
        print(problem)
    if not problems:
        print("execution environment: requirements.txt, bindep.txt and the galaxy dependencies reach the build context")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
