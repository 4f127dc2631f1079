"""Runtime plugins. Each module imports its runtime only inside ``load``: the parent never imports one."""
