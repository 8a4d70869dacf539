"""Phrase banks for the synthetic preference demo.

Each planted concept has many phrasings so that no single token gives it away: a feature
that recovers "apology" must have learned the idea, not the word "sorry".
"""

from __future__ import annotations

TOPICS: dict[str, list[str]] = {
    "gardening": [
        "water the beds early in the morning",
        "mix compost into the soil before planting",
        "pick a spot that gets six hours of sun",
        "pull weeds while they are still small",
        "mulch around the stems to keep moisture in",
        "rotate where you plant vegetables each year",
    ],
    "running": [
        "build your weekly distance up slowly",
        "keep most runs at an easy conversational pace",
        "replace your shoes every few hundred miles",
        "stretch your calves after each session",
        "add one longer run at the weekend",
        "take a rest day after hard workouts",
    ],
    "baking bread": [
        "weigh the flour instead of using cups",
        "let the dough rise somewhere warm",
        "use a hot oven with a tray of water for steam",
        "knead until the dough feels smooth and elastic",
        "let the loaf cool before slicing it",
        "keep your starter fed on a regular schedule",
    ],
    "learning guitar": [
        "practice chord changes for ten minutes a day",
        "keep your thumb behind the neck",
        "use a metronome to steady your rhythm",
        "learn songs you actually enjoy",
        "tune the strings before every session",
        "build calluses with short frequent practice",
    ],
    "saving money": [
        "set up an automatic transfer on payday",
        "track every expense for one month",
        "cancel subscriptions you no longer use",
        "keep an emergency fund for three months of costs",
        "cook at home more often",
        "compare prices before large purchases",
    ],
    "studying for exams": [
        "space your review sessions over several days",
        "test yourself instead of rereading notes",
        "sleep well the night before the exam",
        "work through past papers under timed conditions",
        "explain each topic out loud in your own words",
        "put your phone in another room while you work",
    ],
    "learning python": [
        "write small programs every day",
        "read the error messages carefully",
        "use virtual environments for each project",
        "practice with lists and dictionaries first",
        "read other people's code on open projects",
        "write tests for the functions you create",
    ],
    "training a puppy": [
        "reward good behaviour right away",
        "keep training sessions short and upbeat",
        "take the puppy outside after every meal",
        "use the same command words every time",
        "socialise the puppy with calm adult dogs",
        "give chew toys when the puppy is teething",
    ],
    "sleeping better": [
        "go to bed at the same time every night",
        "keep the bedroom cool and dark",
        "avoid caffeine after lunch",
        "put screens away an hour before bed",
        "get some daylight in the morning",
        "save the bed for sleep rather than work",
    ],
    "public speaking": [
        "rehearse the talk out loud several times",
        "open with a short story",
        "slow down and pause between points",
        "look at a few friendly faces in the room",
        "keep the slides simple and readable",
        "record yourself and watch it back",
    ],
    "home coffee brewing": [
        "grind the beans just before brewing",
        "use water just below boiling",
        "weigh the coffee and the water",
        "clean the equipment after each use",
        "buy beans roasted in the last few weeks",
        "experiment with the grind size",
    ],
    "cycling to work": [
        "plan a route along quiet streets",
        "fit bright lights to the front and back",
        "keep a spare tube and a pump in your bag",
        "check the tyre pressure every week",
        "carry a change of clothes",
        "lock the frame to something solid",
    ],
    "painting with watercolors": [
        "use heavy paper that will not buckle",
        "work from light colours to dark",
        "let each layer dry before adding the next",
        "keep two jars of water for rinsing",
        "practice simple washes first",
        "limit yourself to a few pigments",
    ],
    "job interviews": [
        "research the company beforehand",
        "prepare examples using the situation and result format",
        "arrive ten minutes early",
        "ask thoughtful questions at the end",
        "send a short thank you note afterwards",
        "practice answers with a friend",
    ],
    "camping": [
        "test your tent at home first",
        "pack layers for cold nights",
        "bring more water than you expect to need",
        "check the weather forecast before leaving",
        "leave the campsite cleaner than you found it",
        "store food away from animals",
    ],
    "learning spanish": [
        "practice speaking from the first week",
        "learn the most common verbs early",
        "watch shows with subtitles",
        "use flashcards with spaced repetition",
        "find a conversation partner online",
        "label objects around your home",
    ],
    "meal planning": [
        "plan the week's dinners on sunday",
        "cook grains and beans in large batches",
        "write a shopping list from the plan",
        "reuse leftovers in lunches",
        "keep a few quick recipes for busy nights",
        "store portions in clear containers",
    ],
    "home workouts": [
        "start with bodyweight squats and push ups",
        "warm up for five minutes first",
        "increase repetitions a little each week",
        "use a timer for intervals",
        "keep a log of each session",
        "focus on good form over speed",
    ],
    "photography": [
        "shoot during the golden hour",
        "use the rule of thirds for composition",
        "keep the horizon level",
        "get closer to your subject",
        "learn to control exposure manually",
        "review your photos and delete weak ones",
    ],
    "moving house": [
        "start packing rooms you use least",
        "label every box with its room",
        "book the movers several weeks ahead",
        "keep essentials in one separate bag",
        "update your address with banks early",
        "measure doorways for large furniture",
    ],
}

PROMPTS = [
    "How do I get better at {topic}?",
    "Any tips for {topic}?",
    "What should a beginner know about {topic}?",
    "I'm new to {topic}. Where do I start?",
    "Can you give me advice on {topic}?",
]

SENTENCES = [
    "A good first step is to {tip}.",
    "You should {tip}.",
    "It helps to {tip}.",
    "Try to {tip}.",
    "Many people find it useful to {tip}.",
    "Remember to {tip}.",
    "Make a habit to {tip}.",
    "One simple idea is to {tip}.",
]

# Each bank words one idea many ways: the variants share their meaning (so that one SAE
# direction can carry the concept), and no token is in every variant (so that no word
# gives it away).
LIST_MARKERS = ["- ", "• "]
LIST_INTROS = [
    "Here is a checklist:",
    "A quick checklist:",
    "Here is a to-do list:",
    "Your to-do list:",
    "Here is a short list:",
    "A short list:",
]

APOLOGIES = [
    "Sorry about that.",
    "I apologize.",
    "My apologies.",
    "Apologies for that.",
    "I'm sorry.",
    "I am so sorry.",
    "Please accept my apologies.",
    "Sorry, my mistake.",
]

# A refusal is assembled from independently drawn parts: its wording varies smoothly instead
# of falling into a few fixed sentences (which an SAE would split into one latent each).
REFUSAL_PARTS = (
    ("I can't", "I cannot", "I'm unable to", "I'm not able to", "I am not able to", "I won't"),
    ("give you", "offer you", "provide"),
    ("personal", "individual", "specific"),
    ("advice", "guidance", "recommendations"),
    ("on this.", "here.", "for your case.", "on your situation."),
)

QUESTIONS = [
    "Does that help?",
    "Does this help?",
    "Is that helpful?",
    "Was that useful?",
    "Does that make sense?",
    "Is this what you needed?",
    "Did that answer it?",
    "Is that clear?",
]

SITES = ["learnhub", "guidebase", "howtocenter", "openskills", "dailytips", "skillpath"]
SLUGS = ["guide", "tips", "basics", "start", "faq", "resources"]
AUTHORS = ["Smith", "Garcia", "Chen", "Okafor", "Novak", "Larsen", "Patel", "Moreau"]
JOURNALS = ["Journal of Practical Skills", "Applied Learning Review", "Habits Quarterly"]
CITATIONS = [
    "Source: https://www.{site}.org/{slug}",
    "Source: https://{site}.com/{slug}",
    "See https://www.{site}.net/{slug} for details.",
    "Reference: https://www.{site}.org/{slug}",
    "Citation: https://{site}.org/{slug}",
    "Read more at https://www.{site}.com/{slug}",
]
