"""python -m localmarathon --host 127.0.0.1 --port PORT --data-dir DIR [options] (see README)."""

from __future__ import annotations

import argparse
import logging
import sys

from .offers import DEFAULT_RESOURCES
from .versions import DEFAULT_VERSION, SUPPORTED_MINORS, MarathonVersion


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="localmarathon", description="A local Marathon API server.")
    p.add_argument("--host", default="127.0.0.1", help="listen address (only 127.0.0.1 is allowed)")
    p.add_argument("--port", type=int, default=8080, help="listen port; 0 picks a free one")
    p.add_argument("--data-dir", required=True, help="state, sandboxes, volumes and requests.jsonl")
    p.add_argument("--agents", type=int, default=1, help="number of simulated agents (default 1)")
    p.add_argument("--agent-resources", default=DEFAULT_RESOURCES,
                   help="what each agent offers: cpus=..,mem=..(MB),disk=..(MB),ports=A-B[,gpus=..][,role=..]; "
                        f"unnamed ones keep the defaults ({DEFAULT_RESOURCES}, role *)")
    p.add_argument("--agent-attributes", default="",
                   help="attributes of each agent, for constraints: name:value;name:value")
    p.add_argument("--auth", choices=("none", "dcos"), default="none",
                   help="dcos: require DC/OS ACS tokens on every Marathon path")
    p.add_argument("--auth-config", help="JSON file with users, service_accounts, token_ttl_seconds")
    p.add_argument("--tls-cert", help="PEM certificate: serve HTTPS only")
    p.add_argument("--tls-key", help="PEM private key for --tls-cert")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="divide every configured duration (health checks, backoff, kill grace) by X")
    p.add_argument("--mesos-role", default="slave_public",
                   help="Marathon's --mesos_role (default slave_public, as on DC/OS; '*' like OSS Marathon)")
    p.add_argument("--marathon-version", default=DEFAULT_VERSION,
                   help=f"the Marathon release to reproduce: {SUPPORTED_MINORS} (default {DEFAULT_VERSION}), or a full"
                        " patch version such as 1.4.5 for that patch's defaults")
    p.add_argument("--enterprise", action="store_true",
                   help="DC/OS Enterprise: the secret store (/secrets/v1) and Marathon with --enable_features secrets, "
                        "which injects secrets into tasks")
    p.add_argument("--log-level", default="INFO", help="log level of stderr logging")
    return p


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        MarathonVersion.parse(args.marathon_version)
    except ValueError as exc:
        print(f"localmarathon: --marathon-version: {exc}", file=sys.stderr)
        return 2
    if args.agents < 1:
        print("localmarathon: --agents must be >= 1", file=sys.stderr)
        return 2
    logging.basicConfig(level=getattr(logging, str(args.log_level).upper(), logging.INFO), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from .server import serve
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
