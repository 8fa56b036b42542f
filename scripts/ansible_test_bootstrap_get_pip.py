"""Offline stand-in for the get-pip script that ansible-test downloads.

ansible-test bootstraps pip into every virtual environment it creates by running
``~/.ansible/test/cache/get_pip_<version>.py`` and downloads that script when it
is missing, from a host this project's machines cannot reach. scripts/test.sh
installs this file there instead. It is called with pip-install style
arguments, e.g. ``--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel``,
and installs the requested packages from the configured package index.
"""

import subprocess
import sys

# get-pip.py's own flags; everything else is passed to "pip install".
OWN_FLAGS = ("--no-setuptools", "--no-wheel")


def has_module(name):
    probe = "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(%r) else 1)" % name
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


def run(command):
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        sys.stderr.write("pip bootstrap failed (exit %d): %s\n" % (result.returncode, " ".join(command)))
        sys.exit(result.returncode)


def main(argv):
    install_args = [arg for arg in argv if arg not in OWN_FLAGS]
    had_setuptools = has_module("setuptools")
    # ensurepip must run in a child process: in-process it sets PIP_CONFIG_FILE to
    # /dev/null, and the later install would then ignore the machine's pip.conf
    # (certificate bundle, package index).
    run([sys.executable, "-m", "ensurepip", "--default-pip"])
    run([sys.executable, "-m", "pip", "install", "--quiet"] + install_args)
    # ensurepip also brings setuptools; honour --no-setuptools like get-pip does.
    if "--no-setuptools" in argv and not had_setuptools and has_module("setuptools"):
        run([sys.executable, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"])


if __name__ == "__main__":
    main(sys.argv[1:])
