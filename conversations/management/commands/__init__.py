"""Commands: load_demo_data, runserver_with_worker."""
