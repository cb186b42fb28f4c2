/// Fine-tuning: datasets, losses, optimizers, schedules and the trainer.
public enum Train {}
