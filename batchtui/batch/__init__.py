"""The Azure Batch data plane: client, auth, models and errors. Never imports Textual."""
