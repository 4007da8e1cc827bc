"""Tiny real BERT classifiers for tests: built from a BertConfig and a word-level vocab in well under a second."""
from __future__ import annotations

import re
from pathlib import Path

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def build_vocab(texts: list[str], extra: list[str] | None = None) -> list[str]:
    words = set(extra or [])
    for text in texts:
        words.update(re.findall(r"\w+|[^\w\s]", text.lower()))
    return SPECIAL + sorted(words)


def make_tiny_tokenizer(directory: Path, vocab: list[str]):
    from transformers import BertTokenizerFast

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab=str(directory / "vocab.txt"), do_lower_case=True)  # transformers 5: `vocab`, not `vocab_file`
    tokenizer.save_pretrained(directory)
    return tokenizer


def make_tiny_model(directory: Path, labels: list[str], texts: list[str], *, hidden: int = 32, layers: int = 2,
                    seed: int = 0, extra_words: list[str] | None = None) -> Path:
    """Save an untrained tiny BertForSequenceClassification (safetensors) with its tokenizer to `directory`."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    vocab = build_vocab(texts, extra_words)
    make_tiny_tokenizer(directory, vocab)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=hidden * 2, max_position_embeddings=256, num_labels=len(labels),
                        id2label=dict(enumerate(labels)), label2id={l: i for i, l in enumerate(labels)})
    model = BertForSequenceClassification(config)
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def train_tiny_model(directory: Path, labels: list[str], texts: list[str], targets: list[str], *, steps: int = 150,
                     batch_size: int = 16, lr: float = 3e-3, seed: int = 0, hidden: int = 32) -> Path:
    """A tiny BERT classifier fine-tuned for `steps` AdamW steps on (texts, targets): seconds on CPU."""
    import torch
    from transformers import AutoTokenizer, BertForSequenceClassification

    make_tiny_model(directory, labels, texts, hidden=hidden, seed=seed)
    tokenizer = AutoTokenizer.from_pretrained(directory)
    model = BertForSequenceClassification.from_pretrained(directory, hidden_dropout_prob=0.0,
                                                          attention_probs_dropout_prob=0.0)
    enc = tokenizer(texts, padding=True, truncation=True, max_length=64, return_tensors="pt")
    y = torch.tensor([labels.index(t) for t in targets])
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for _ in range(steps):
        idx = torch.randint(0, len(texts), (batch_size,), generator=generator)
        loss = model(input_ids=enc["input_ids"][idx], attention_mask=enc["attention_mask"][idx], labels=y[idx]).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    model.save_pretrained(directory, safe_serialization=True)
    return directory


def make_tiny_token_model(directory: Path, texts: list[str], *, hidden: int = 32, layers: int = 2,
                          seed: int = 0) -> Path:
    """An untrained tiny BertForTokenClassification base (safetensors) with a word-level tokenizer that really
    loads its vocabulary (transformers 5: `BertTokenizer(vocab=dict)`)."""
    import torch
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    torch.manual_seed(seed)
    vocab = build_vocab(texts)
    directory.mkdir(parents=True, exist_ok=True)
    BertTokenizer(vocab={w: i for i, w in enumerate(vocab)}, do_lower_case=True).save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=hidden * 2, max_position_embeddings=256, num_labels=2)
    BertForTokenClassification(config).save_pretrained(directory, safe_serialization=True)
    return directory
