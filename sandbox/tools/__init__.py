"""What partners run and import: the command line, the admin client, the pytest plugin, the
encrypting transport and the server runner. The top layer: nothing in the sandbox imports it."""
