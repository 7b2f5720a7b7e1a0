"""Data: Kaggle-layout folders, data mixes and their crop cache, leak-free splits, SBI pseudo-fakes, synthetic sets."""
