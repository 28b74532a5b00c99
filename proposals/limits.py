"""The most characters a person may send in each free-text field: one place for the models, the
API serializers and the page forms, which all refuse a longer text with a field error.

A proposal's text is at most 100 000 characters (some 15 000 words): Markdown renders in time
linear in its length, and at this size even an adversarial text renders in a few seconds at worst
(bench/markdown.py measures it).
"""

from __future__ import annotations

TITLE_MAX_LENGTH = 300
SUMMARY_MAX_LENGTH = 5_000
TEXT_MAX_LENGTH = 100_000
COMMENT_MAX_LENGTH = 10_000  # a transition's comment, such as a reviewer's request for changes
NOTE_MAX_LENGTH = 2_000  # the note of an outcome: a paragraph or two, and a link beside it
REFERENCE_MAX_LENGTH = 300  # the body's reference or receipt of a submission
LINK_MAX_LENGTH = 500
# A comment in the discussion: the same limit as the text.
DISCUSSION_COMMENT_MAX_LENGTH = TEXT_MAX_LENGTH
ATTACHMENT_TITLE_MAX_LENGTH = 200
DEADLINE_CHANGE_REASON_MAX_LENGTH = 2_000
