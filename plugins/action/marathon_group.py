# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)
"""Action plugin of marathon_group: the one of marathon_app (the Marathon version read once per cluster)."""

from __future__ import annotations

from ansible_collections.dcos.marathon.plugins.action.marathon_app import ActionModule  # noqa: F401 pylint: disable=unused-import
