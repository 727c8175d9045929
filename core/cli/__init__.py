"""The ``mahlernet`` command line: one sub-command module per job, all over the same core functions."""
