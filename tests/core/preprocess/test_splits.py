"""Splits by whole work: which work a file belongs to, a deterministic and stable assignment, and the
pairs of each split."""

from core.model.batching import PairSet
from core.preprocess.splits import WorkSplit, split_works, work_of
from tests.core.synthetic import random_pieces

NAMES = [f"composer{c}__work{w}__movement{m}.mid" for c in range(6) for w in range(5) for m in range(3)] + ["loose.mid"]


def test_movements_of_one_work_are_one_work():
    assert work_of("mozart__k458__movement2.mid") == work_of("sub/mozart__k458__movement4.npz") == "mozart__k458"
    assert work_of("bach__bwv66.6.mid") == "bach__bwv66.6"
    assert work_of("My Song.MID") == "My Song"


def test_every_work_goes_whole_to_exactly_one_split():
    split = split_works(NAMES, seed=1, validation=0.2, test=0.2)
    works = {work_of(n) for n in NAMES}
    assert set(split.train) | set(split.validation) | set(split.test) == works
    assert not set(split.train) & set(split.validation) and not set(split.train) & set(split.test)
    assert not set(split.validation) & set(split.test)
    for name in NAMES:  # all movements of a work share its split
        movements = [n for n in NAMES if work_of(n) == work_of(name)]
        assert len({split.split_of(m) for m in movements}) == 1
    assert 0 < len(split.test) < len(works) / 2 and 0 < len(split.validation) < len(works) / 2


def test_the_split_depends_on_the_seed_and_names_only_and_new_files_move_nothing():
    split = split_works(NAMES, seed=1)
    assert split == split_works(list(reversed(NAMES)), seed=1)
    assert split != split_works(NAMES, seed=2)
    grown = split_works(NAMES + [f"newcomer__piece{i}.mid" for i in range(20)], seed=1)
    for work in split.test:
        assert work in grown.test
    assert WorkSplit.from_dict(split.to_dict()) == split


def test_a_small_folder_still_holds_out_a_work_for_validation_and_test():
    split = split_works(["a.mid", "b.mid", "c.mid"], seed=5, validation=0.1, test=0.1)
    assert len(split.validation) == 1 and len(split.test) == 1 and len(split.train) == 1
    assert split_works(["a.mid", "b.mid"], seed=5) == WorkSplit(("a", "b"), (), ())


def test_pairs_are_split_by_the_work_of_their_piece():
    pieces = random_pieces(12, bars=4, seed=2)
    pairs = PairSet(pieces)
    split = split_works(pairs.sources, seed=3, validation=0.2, test=0.2)
    by_split = pairs.split_by_work(split)
    assert sum(len(ids) for ids in by_split.values()) == len(pairs)
    for name, ids in by_split.items():
        assert {split.split_of(pairs.sources[pairs.piece_of[i]]) for i in ids} <= {name}
    assert len(by_split["test"]) > 0 and len(by_split["validation"]) > 0
