"""``{{ text|markdown }}``: people's markdown as sanitized HTML
(config.markdown), for any template that shows what users wrote."""

from django import template

from config.markdown import render_markdown

register = template.Library()


@register.filter(name="markdown")
def markdown_filter(text):
    return render_markdown(text)
