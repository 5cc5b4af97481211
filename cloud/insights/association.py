"""Item-to-item recommendations ("often bought with ...") learned from baskets.

The model counts, over the baskets it is given, how often each item is bought and how often two
items share a basket, and keeps for every item its nearest neighbours by cosine similarity of
their basket sets:  sim(a, b) = n(a and b) / sqrt(n(a) * n(b)), for pairs seen together at least
`min_support` times.  A basket is recommended the items with the highest summed similarity to
what is in it (and, for an identified member, to what the member bought before), filled up with
the most popular items when the neighbours run out.

Pure Python: a shop's catalogue is hundreds of items and its baskets tens of thousands, well
within a dictionary of pair counts.  The model is a plain dict, kept as JSON.
"""
import collections
import math

NEIGHBOURS = 20           # neighbours kept per item
POPULAR = 20              # most popular items kept for the fill-up
HISTORY_WEIGHT = 0.3      # weight of a member's past items against the basket in hand


def learn(baskets, min_support=2):
    """`baskets`: iterables of item codes (one per sale).  Returns the model:
    {"neighbours": {item: [[other, sim], ...]}, "popular": [item, ...], "baskets": n}."""
    single = collections.Counter()
    pairs = collections.Counter()
    n = 0
    for items in baskets:
        uniq = sorted(set(items))
        if not uniq:
            continue
        n += 1
        single.update(uniq)
        for i, a in enumerate(uniq):
            for b in uniq[i + 1:]:
                pairs[(a, b)] += 1
    near = collections.defaultdict(list)
    for (a, b), both in pairs.items():
        if both < min_support:
            continue
        sim = both / math.sqrt(single[a] * single[b])
        near[a].append((sim, b))
        near[b].append((sim, a))
    neighbours = {}
    for item, lst in near.items():
        lst.sort(key=lambda t: (-t[0], t[1]))
        neighbours[item] = [[other, round(sim, 6)] for sim, other in lst[:NEIGHBOURS]]
    popular = [item for item, _ in sorted(single.items(), key=lambda t: (-t[1], t[0]))[:POPULAR]]
    return {"neighbours": neighbours, "popular": popular, "baskets": n}


def recommend(model, basket, history=(), limit=5):
    """Up to `limit` item codes for a customer holding `basket`, with `history` the items the member
    bought before (most frequent first; empty for a customer who is not a member or opted out).
    Returns [(item, score, because)], `because` the basket item that suggested it ("" for fill-up)."""
    have = set(basket)
    score = collections.defaultdict(float)
    because = {}
    best = {}
    for weight, seeds in ((1.0, list(dict.fromkeys(basket))), (HISTORY_WEIGHT, list(history))):
        for seed in seeds:
            for other, sim in model["neighbours"].get(seed, ()):
                if other in have:
                    continue
                score[other] += weight * sim
                if weight * sim > best.get(other, 0.0):
                    best[other], because[other] = weight * sim, seed
    ranked = sorted(score.items(), key=lambda t: (-t[1], t[0]))[:limit]
    out = [(item, round(s, 6), because[item]) for item, s in ranked]
    taken = have | {item for item, _, _ in out}
    for item in model["popular"]:
        if len(out) >= limit:
            break
        if item not in taken:
            out.append((item, 0.0, ""))
            taken.add(item)
    return out


def popular_baseline(model, basket, limit=5):
    """The baseline: the most popular items not already in the basket."""
    have = set(basket)
    return [item for item in model["popular"] if item not in have][:limit]


def hit_rate(model, cases, k=5, use=None):
    """Share of `cases` (basket_without_one_item, history, held_out_item) whose held-out item is among
    the top `k` of `use(model, basket, history, k)` (default: recommend)."""
    if not cases:
        return 0.0
    use = use or (lambda m, basket, history, k: [i for i, _, _ in recommend(m, basket, history, k)])
    hits = sum(1 for basket, history, held in cases if held in use(model, basket, history, k))
    return hits / len(cases)
