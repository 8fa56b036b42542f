"""The Marathon releases localmarathon can speak, and what each one does differently from 1.10.

The one place that knows versions: everything else asks a ``MarathonVersion`` a named question
(``version.old_networking_only``, ``version.default_max_launch_delay``, ...) instead of comparing
numbers. The facts follow the project's reference of Marathon's versions (marathon-versions.md: the
DC/OS-to-Marathon table of its section 1, app JSON in section 2, tasks in section 3, /v2/info in
section 5, validation in section 6).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A bare minor stands for the newest build of it that a DC/OS release shipped (reference section 1).
REPRESENTATIVE_PATCH = {
    (1, 4): (1, 4, 12),    # DC/OS 1.9.10
    (1, 5): (1, 5, 12),    # DC/OS 1.10.9-1.10.11
    (1, 6): (1, 6, 585),   # DC/OS 1.11.11-1.11.13
    (1, 7): (1, 7, 216),   # DC/OS 1.12.4-1.12.5
    (1, 8): (1, 8, 242),   # DC/OS 1.13.9
    (1, 9): (1, 9, 136),   # DC/OS 2.0.3-2.0.6
    (1, 10): (1, 10, 26),  # DC/OS 2.1.1 (the 1.10 reference)
    (1, 11): (1, 11, 23),  # DC/OS 2.2.0, 2.2.1
}
DEFAULT_VERSION = "1.10"
SUPPORTED_MINORS = ", ".join(f"{a}.{b}" for a, b in REPRESENTATIVE_PATCH)

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")

# Fields a release does not know, with the first release that reads them. Older releases ignore
# them silently (the JSON readers never look at them).
_FIELDS_SINCE = (
    (("tty",), (1, 5, 0)),
    (("persistent.profileName",), (1, 6, 0)),
    (("executorResources",), (1, 6, 352)),
    (("check",), (1, 8, 0)),
    (("container.linuxInfo",), (1, 8, 0)),
    (("role",), (1, 9, 0)),
    (("resourceLimits",), (1, 10, 0)),
)


@dataclass(frozen=True)
class MarathonVersion:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str | None) -> "MarathonVersion":
        """``1.4`` (representative patch) or ``1.4.5`` (that patch); ValueError names the choices."""
        m = _VERSION_RE.match(str(text if text is not None else DEFAULT_VERSION).strip())
        if not m or (int(m.group(1)), int(m.group(2))) not in REPRESENTATIVE_PATCH:
            raise ValueError(f"unsupported Marathon version {text!r}: use one of {SUPPORTED_MINORS}"
                             " or a full patch version such as 1.4.5")
        major, minor = int(m.group(1)), int(m.group(2))
        if m.group(3) is None:
            return cls(*REPRESENTATIVE_PATCH[(major, minor)])
        return cls(major, minor, int(m.group(3)))

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def at_least(self, *release: int) -> bool:
        return self.release >= tuple(release)

    # -- /v2/info (section 5)

    @property
    def reported(self) -> str:
        """The ``version`` string of /v2/info (the jar's Implementation-Version)."""
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def info_has_event_subscriber(self) -> bool:
        return not self.at_least(1, 5)

    # -- reading app JSON (section 2)

    @property
    def secret_volumes(self) -> bool:
        """File-based secrets (``{"containerPath", "secret"}`` volumes) came with 1.5; 1.3 and 1.4 know
        only secrets as environment variables."""
        return self.at_least(1, 5)

    @property
    def old_networking_only(self) -> bool:
        """1.4 reads only container.docker.network/portMappings and ipAddress; ``networks`` and
        ``container.portMappings`` are not read at all."""
        return not self.at_least(1, 5)

    def unknown_fields(self) -> tuple[str, ...]:
        """Dotted paths of the fields this release ignores on input and never writes."""
        return tuple(path for paths, since in _FIELDS_SINCE if self.release < since for path in paths)

    @property
    def uri_archive_suffixes(self) -> tuple[str, ...]:
        """``uris`` migrated to ``fetch`` get ``extract: true`` for these endings (section 2.9)."""
        if self.at_least(1, 6):
            return (".tar", ".tar.gz", ".tar.bz2", ".tar.xz", ".gz", ".tgz", ".tbz2", ".txz", ".zip")
        return (".tgz", ".tar.gz", ".tbz2", ".tar.bz2", ".txz", ".tar.xz", ".zip")

    @property
    def archive_suffix_on_uri_path(self) -> bool:
        """1.6+ match the suffix on the URI's path; 1.4/1.5 on the whole string."""
        return self.at_least(1, 6)

    @property
    def default_max_launch_delay(self) -> int:
        return 300 if self.at_least(1, 8) else 3600

    @property
    def default_unreachable(self) -> tuple[int, int]:
        """(inactiveAfterSeconds, expungeAfterSeconds) of a non-resident app without one; also the
        defaults of fields a partial object leaves out."""
        if (1, 4, 2) <= self.release <= (1, 4, 8) or self.release == (1, 5, 0):
            return (300, 600)
        return (0, 0)

    @property
    def require_ports_forced_off_host(self) -> bool:
        """1.5+ force requirePorts false for container networking; 1.4 stores what was sent."""
        return self.at_least(1, 5)

    @property
    def default_bridge_port_mapping(self) -> bool:
        """1.5+ give a BRIDGE/container app without mappings [{containerPort 0, name default}]."""
        return self.at_least(1, 5)

    @property
    def port_index_for_every_check(self) -> bool:
        """1.4 adds portIndex 0 to port-based checks whenever the app has ports (nearly always)."""
        return not self.at_least(1, 5)

    # -- writing app JSON (section 2)

    @property
    def legacy_app_writer(self) -> bool:
        """1.4's hand-written writer: nulls, ``ports``, ``uris``, ``storeUrls``, old networking."""
        return not self.at_least(1, 5)

    @property
    def health_check_echoes_delay(self) -> bool:
        """1.5+ echo delaySeconds on every protocol (15 for HTTP/HTTPS/TCP); 1.4 only on MESOS_*/COMMAND."""
        return self.at_least(1, 5)

    @property
    def health_check_ip_protocol(self) -> bool:
        return self.at_least(1, 6)

    @property
    def residency_is_stored(self) -> bool:
        """1.4/1.5 store residency (so residency without volumes is refused); 1.6+ derive it."""
        return not self.at_least(1, 6)

    @property
    def residency_without_volumes_message(self) -> str:
        if not self.at_least(1, 5):
            return "AppDefinition must contain persistent volumes and define residency"
        return "App must contain persistent volumes and define residency"

    # -- roles (sections 2.7, 6)

    @property
    def has_roles(self) -> bool:
        """1.9+: apps have a ``role``; resident apps refuse ``*``; a role change needs force."""
        return self.at_least(1, 9)

    @property
    def rejects_invalid_accepted_roles(self) -> bool:
        """1.10+ refuse acceptedResourceRoles other than * and the app's role (1.9 rewrites them)."""
        return self.at_least(1, 10)

    @property
    def sanitizes_accepted_roles(self) -> bool:
        return self.release[:2] == (1, 9)

    # -- ids (section 6)

    @property
    def refuses_reserved_id_endings(self) -> bool:
        """Ids ending in restart/tasks/versions: refused from 1.5.13, 1.6.585, 1.7.189 (backports) and 1.8."""
        first_patch = {(1, 5): 13, (1, 6): 585, (1, 7): 189}.get(self.release[:2])
        if first_patch is not None:
            return self.patch >= first_patch
        return self.at_least(1, 8)

    # -- error answers (reference of 1.10, sections 1 and 2; versions reference section 5)

    @property
    def invalid_json_status(self) -> int:
        """Well-formed JSON of the wrong types: 422 from 1.6, 400 before."""
        return 422 if self.at_least(1, 6) else 400

    @property
    def not_found_has_details(self) -> bool:
        """1.9+ render 404s of unknown apps/tasks with ``"details": []``; before, ``message`` only."""
        return self.at_least(1, 9)

    @property
    def no_leader_status(self) -> int:
        """No known leader: 502 from 1.7, 503 (same text) before."""
        return 502 if self.at_least(1, 7) else 503

    @property
    def unknown_route_is_404(self) -> bool:
        """<=1.5: 404 ``URI not found: <path>``; 1.6+ map Jersey's NotFoundException to 500."""
        return not self.at_least(1, 6)

    # -- resident updates (section 6)

    @property
    def resident_update_per_field_messages(self) -> bool:
        """1.7.174+ name each changed field; before, one object-level message."""
        return self.at_least(1, 7, 174)

    # -- tasks (section 3)

    @property
    def legacy_task_writer(self) -> bool:
        """1.4/1.5's hand-written task writer: arrays only when non-empty, nulls in health results."""
        return not self.at_least(1, 6)

    @property
    def stopped_resident_task_staging(self) -> bool:
        """<=1.7: the task of a stopped resident instance is ``Reserved``, shown as TASK_STAGING;
        1.8+ show its last terminal state."""
        return not self.at_least(1, 8)

    def task_id(self, instance_id: str, incarnation: int) -> str:
        """1.8+: ``<app>.instance-<uuid>._app.<n>``; <=1.7: ``<app>.<uuid>``, a relaunch on the same
        instance (resident) adding ``.<attempt>`` as 1.4.7-1.7 do."""
        if self.at_least(1, 8):
            return f"{instance_id}._app.{incarnation}"
        task_id = instance_id.replace(".instance-", ".", 1)
        return task_id if incarnation <= 1 else f"{task_id}.{incarnation}"

    def health_instance_id(self, instance_id: str) -> str:
        """The ``instanceId`` of a health result: 1.4/1.5 name instances ``<app>.marathon-<uuid>``."""
        return instance_id.replace(".instance-", ".marathon-", 1) if self.legacy_task_writer else instance_id

    @property
    def task_has_role(self) -> bool:
        return self.at_least(1, 9)
