"""Where generated notes go: the piece track of their class nearest in pitch, chosen per pitch."""

from core.generation.placement import TrackMap
from core.music.score import Note, Score, Track

VIOLIN = 4  # the instrument class of GM programs 40-41


def test_each_pitch_goes_to_the_nearest_track_of_its_class_every_time():
    high = Track("Violin I", 40, 0, tuple(Note(i * 480, 480, 76 + i % 3, 80) for i in range(8)))
    low = Track("Violin II", 40, 1, tuple(Note(i * 480, 480, 60 + i % 3, 80) for i in range(8)))
    tracks = TrackMap(Score(480, (high, low)))
    for variation in (tracks.fresh(), tracks.fresh()):
        for _ in range(2):  # asked again, the same answer
            assert [variation.target(VIOLIN, pitch).index for pitch in (84, 55, 70, 67)] == [0, 1, 0, 1]
        assert variation.target(VIOLIN, 84).template == Track("Violin I", 40, 0)
        assert variation.target(VIOLIN, 55).template == Track("Violin II", 40, 1)
