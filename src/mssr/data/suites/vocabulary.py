"""The words the built-in suite is made of. The base-model build script reads these lists too,
so the pretraining corpus covers the suite's vocabulary (never its examples or facts)."""

from __future__ import annotations

NAMES = ("Ann", "Ben", "Cara", "Dan", "Eva", "Finn", "Gus", "Hana", "Ivy", "Jack", "Kim",
         "Leo", "Mia", "Ned", "Olga", "Pam", "Raj", "Sam", "Tom", "Zoe")
COLORS = ("red", "blue", "green", "yellow", "black", "white", "pink", "brown")
# Nouns whose plural is the noun plus "s", so pluralising is one regular rule.
OBJECTS = ("apple", "pen", "book", "cup", "hat", "ball", "coin", "shell", "card", "stone",
           "egg", "lamp", "key", "bag", "bell", "kite", "ring", "shoe", "sock", "spoon")
ANIMALS = ("cat", "dog", "bird", "cow", "duck", "frog", "goat", "horse", "pig", "rabbit",
           "hen", "bee")
FOODS = ("bread", "soup", "cake", "rice", "pie", "tea", "milk", "cheese", "salad", "jam")
PLACES = ("park", "shop", "school", "farm", "lake", "forest", "river", "desert", "mountain",
          "beach", "market", "garden", "village", "cave", "swamp", "meadow")
TOPICS = {"animal": ANIMALS, "food": FOODS, "object": OBJECTS, "place": PLACES}
POSITIVE = ("good", "great", "lovely", "nice", "bright", "fresh", "pleasant", "tasty",
            "perfect", "charming", "excellent", "friendly")
NEGATIVE = ("awful", "dirty", "dull", "broken", "terrible", "rude", "stale", "noisy",
            "ugly", "boring", "horrible", "gloomy")
# Each word appears once, so the opposite of every word is unique.
OPPOSITES = (("hot", "cold"), ("big", "small"), ("fast", "slow"), ("happy", "sad"),
             ("light", "dark"), ("old", "new"), ("tall", "short"), ("open", "closed"),
             ("full", "empty"), ("early", "late"), ("hard", "soft"), ("clean", "messy"),
             ("loud", "quiet"), ("wet", "dry"), ("rich", "poor"), ("strong", "weak"),
             ("thick", "thin"), ("high", "low"), ("near", "far"), ("up", "down"),
             ("day", "night"), ("left", "right"), ("first", "last"), ("inside", "outside"))
HABITATS = ("forest", "river", "desert", "mountain", "lake", "cave", "swamp", "meadow")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve")
# Syllables of the made-up names behind the synthetic facts (countries, cities, creatures).
SYLLABLES = ("ka", "lo", "mi", "ven", "tor", "sa", "bel", "dru", "nor", "pa", "qui", "ral",
             "sen", "ti", "vo", "zan", "gor", "fe", "lun", "mar", "os", "rik", "ta", "wen")
LANGUAGE_SUFFIXES = ("ish", "ese", "ic", "an")
