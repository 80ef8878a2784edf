"""selective_finetuning."""
