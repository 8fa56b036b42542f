# Sphinx configuration of the dcos.marathon docs site (make docs; scripts/build_docs.sh copies it
# next to the pages antsibull-docs writes). Started from `antsibull-docs sphinx-init` 2.28.0.

project = 'dcos.marathon'
copyright = 'dcos.marathon maintainers'
title = 'dcos.marathon documentation'
html_short_title = 'dcos.marathon'
html_title = 'dcos.marathon documentation'

# No sphinx.ext.intersphinx: it would download Ansible's inventory, and the build reads nothing from the
# network. The few references antsibull-docs makes into Ansible's documentation and to other collections'
# plugins are resolved below into links to docs.ansible.com; any other unresolved reference stays an error.
extensions = ['sphinx_antsibull_ext', 'myst_parser']

ANSIBLE_DOCS = 'https://docs.ansible.com/projects/ansible/devel/'
# (role, target): (page#anchor, the title shown where the reference gives none)
ANSIBLE_DOCS_TARGETS = {
    ('ref', 'action_plugins'): ('plugins/action.html#action-plugins', 'Action plugins'),
    ('ref', 'callback_plugins'): ('plugins/callback.html#callback-plugins', 'Callback plugins'),
    ('ref', 'common_return_values'): ('reference_appendices/common_return_values.html#common-return-values',
                                      'Return Values'),
    ('ref', 'ansible_configuration_settings'): ('reference_appendices/config.html#ansible-configuration-settings',
                                                'Ansible Configuration Settings'),
    ('envvar', 'ANSIBLE_CALLBACKS_ENABLED'): ('reference_appendices/config.html#envvar-ANSIBLE_CALLBACKS_ENABLED',
                                              None),
}
OWN_LABEL_PREFIX = 'ansible_collections.dcos.marathon.'

# The guides are the repository's Markdown files (docs/*.md, README.md), single-sourced through myst.
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
myst_heading_anchors = 3

pygments_style = 'ansible'
# antsibull-docs names the language of each example; a guide's unlabelled code block is shown as it is.
highlight_language = 'none'

html_theme = 'sphinx_ansible_theme'
html_theme_options = {
    # No advertising or tracking scripts from other hosts; the title links to this site's own index.
    'show_rtd_ethical_ads': False,
    'show_extranav': False,
    'documentation_home_url': 'index.html',
    # The theme's default top bar links to Ansible's blog and forum; this one to the collection (galaxy.yml).
    'topbar_links': {
        'Repository': 'https://github.com/dcos-marathon/dcos.marathon',
        'Issues': 'https://github.com/dcos-marathon/dcos.marathon/issues',
    },
}
html_show_sphinx = False
display_version = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False

default_role = 'any'
nitpicky = True


def _ansible_docs_uri(reftype, target):
    """(URI, title or None) of a reference into Ansible's documentation, or None."""
    if (reftype, target) in ANSIBLE_DOCS_TARGETS:
        page, title = ANSIBLE_DOCS_TARGETS[(reftype, target)]
        return ANSIBLE_DOCS + page, title
    # A plugin of another collection: ansible_collections.<namespace>.<name>.<plugin>_<type> (the label of
    # its page there). This collection's own labels must resolve here.
    parts = target.split('.')
    if reftype == 'ref' and len(parts) == 4 and parts[0] == 'ansible_collections' \
            and not target.startswith(OWN_LABEL_PREFIX):
        page = parts[3]
        return ANSIBLE_DOCS + 'collections/%s/%s/%s.html#%s' % (
            parts[1], parts[2], page, target.replace('.', '-').replace('_', '-')), None
    return None


def _resolve_ansible_docs_reference(app, env, node, contnode):
    from docutils import nodes

    found = _ansible_docs_uri(node.get('reftype'), node.get('reftarget', ''))
    if found is None:
        return None
    uri, title = found
    reference = nodes.reference('', '', internal=False, refuri=uri)
    # Without a title of its own, a :ref: would show its label (callback_plugins); show the page's title.
    reference += nodes.inline(title, title) if title and not node.get('refexplicit') else contnode
    return reference


def setup(app):
    app.connect('missing-reference', _resolve_ansible_docs_reference)
