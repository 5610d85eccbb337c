"""Names and limits of the demo model, and its stop-words and question words."""

DEMO_MODEL_ID = "local/demo"
DEMO_MODEL_LABEL = "Offline demo model"
DEMO_MODEL_NAMES = frozenset({"demo", DEMO_MODEL_ID})

CALCULATOR = "calculator"
FILE_SEARCH = "file_search"
MAX_ARITHMETIC_STEPS = 10
MAX_QUOTED_PASSAGES = 3
MAX_PASSAGE_CHARACTERS = 300

_STOP_WORDS = """
    a about above after again all also am an and any are as at be been before being
    below between both but by can could did do does doing down during each few for
    from further get give had has have having he her here hers him his how i if in
    into is it its itself just let me more most my no nor not now of off on once only
    or other our ours out over own please same shall she should so some such than
    that the their theirs them then there these they this those through to too under
    until up use used uses using very was we were what when where which while who
    whom whose why will with would you your yours tell show want need like know
    given return returns default via one
    handoff transfer agent handle request
"""
STOP_WORDS = frozenset(_STOP_WORDS.split())
_QUESTION_STARTS = """
    what who whom whose when where why how which is are was were do does did can
    could should would will has have tell explain find describe summarise summarize
    list search look
"""
QUESTION_STARTS = frozenset(_QUESTION_STARTS.split())
