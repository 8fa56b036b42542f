# -*- coding: utf-8 -*-
# Copyright: dcos.marathon contributors
# Apache License 2.0 (see https://www.apache.org/licenses/LICENSE-2.0)

from __future__ import annotations


class ModuleDocFragment(object):
    # Standard attribute descriptions; modules set the support level themselves.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
"""

    # For modules in the action group "marathon" of meta/runtime.yml.
    ACTIONGROUP_MARATHON = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/dcos.marathon.marathon) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - dcos.marathon.marathon
"""

    # For read-only modules.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""
