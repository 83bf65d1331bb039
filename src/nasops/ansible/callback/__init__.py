"""Ansible callback plugins shipped with nasops (loaded by path, through ANSIBLE_CALLBACK_PLUGINS).

This package exists so that the plugin files are installed with nasops; Ansible itself loads
them as standalone modules and ignores this file.
"""
