"""One module per `python -m mnist` subcommand."""
