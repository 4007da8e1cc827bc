"""govaudit finetune package."""
