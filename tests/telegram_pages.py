"""Pages in the structure of Telegram's public channel preview (``t.me/s/<channel>``) and of
the ``t.me/<name>`` page a name without one is redirected to, written for the tests: the same
classes, attributes and nesting as the real ones, with made-up channels and messages."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Post:
    """One message; ``text`` is HTML as the preview writes it (``<br/>``, ``<a>``, ``<b>``)."""

    id: int
    posted: datetime
    text: str = ""
    forwarded_from: tuple[str, str] | None = None  # (name, link to the original)
    card: tuple[str, str, str] | None = None  # a link card: (url, site, title)
    photos: int = 0  # one photo, or an album when more
    reply_to: str | None = None  # the text of a quoted message this one replies to
    service: bool = False  # "Channel photo updated" and the like
    views: str = "1.2K"


def message(channel: str, post: Post) -> str:
    """One message's wrapper, as in the preview's history."""
    ref = f"{channel}/{post.id}"
    when = post.posted.isoformat()
    if post.service:
        return (
            '<div class="tgme_widget_message_service_wrap js-widget_message_wrap">'
            f'<div class="tgme_widget_message service_message js-widget_message" data-post="{ref}">'
            '<div class="tgme_widget_message_bubble"><div class="message_media_not_supported_wrap"></div>'
            f'<div class="tgme_widget_message_text js-message_text service_message_text" dir="auto">{post.text}</div>'
            f'<a class="tgme_widget_message_date" href="https://t.me/{ref}"><time datetime="{when}" class="time">12:00</time></a>'
            "</div></div></div>"
        )
    parts = [
        '<div class="tgme_widget_message_author accent_color">'
        f'<a class="tgme_widget_message_owner_name" href="https://t.me/{channel}"><span dir="auto">{channel}</span></a></div>'
    ]
    if post.forwarded_from:
        name, link = post.forwarded_from
        parts.append(
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            f'<a class="tgme_widget_message_forwarded_from_name" href="{link}"><span dir="auto">{html.escape(name)}</span></a></div>'
        )
    if post.reply_to:
        parts.append(
            f'<a class="tgme_widget_message_reply" href="https://t.me/{channel}/{post.id - 1}">'
            f'<div class="tgme_widget_message_author accent_color"><span class="tgme_widget_message_author_name">{channel}</span></div>'
            f'<div class="tgme_widget_message_text js-message_reply_text" dir="auto">{post.reply_to}</div></a>'
        )
    if post.photos == 1:
        parts.append(
            f'<a class="tgme_widget_message_photo_wrap 5123 blured" href="https://t.me/{ref}" '
            "style=\"width:800px;background-image:url('https://cdn.example/file/a.jpg')\">"
            '<div class="tgme_widget_message_photo" style="padding-top:56.25%"></div></a>'
        )
    elif post.photos > 1:
        photos = "".join(
            f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" '
            f'href="https://t.me/{channel}/{post.id + i}?single" data-ratio="1.5" '
            f"style=\"width:400px;background-image:url('https://cdn.example/file/{i}.jpg')\"></a>"
            for i in range(post.photos)
        )
        parts.append(
            '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" data-margin-w="2">'
            '<div class="tgme_widget_message_grouped js-message_grouped">'
            f'<div class="tgme_widget_message_grouped_layer js-message_grouped_layer">{photos}</div></div></div>'
        )
    if post.text:
        parts.append(
            f'<div class="tgme_widget_message_text js-message_text" dir="auto">{post.text}</div>'
        )
    if post.card:
        url, site, title = post.card
        parts.append(
            f'<a class="tgme_widget_message_link_preview" href="{url}">'
            '<i class="link_preview_right_image" style="background-image:url(\'https://cdn.example/p.jpg\')"></i>'
            f'<div class="link_preview_site_name accent_color" dir="auto">{html.escape(site)}</div>'
            f'<div class="link_preview_title" dir="auto">{html.escape(title)}</div>'
            '<div class="link_preview_description" dir="auto">The first lines of the linked page.</div></a>'
        )
    parts.append(
        '<div class="tgme_widget_message_footer compact js-message_footer">'
        '<div class="tgme_widget_message_info short js-message_info">'
        f'<span class="tgme_widget_message_views">{post.views}</span><span class="copyonly"> views</span>'
        '<span class="tgme_widget_message_meta">'
        f'<a class="tgme_widget_message_date" href="https://t.me/{ref}"><time datetime="{when}" class="time">12:00</time></a>'
        "</span></div></div>"
    )
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">'
        f'<div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{ref}" data-view="eyJjIjoxfQ">'
        f'<div class="tgme_widget_message_user"><a href="https://t.me/{channel}"><i class="tgme_widget_message_user_photo bgcolor0" data-content="K"></i></a></div>'
        f'<div class="tgme_widget_message_bubble"><i class="tgme_widget_message_bubble_tail"></i>{"".join(parts)}</div>'
        "</div></div>"
    )


def preview(channel: str, title: str, posts: list[Post], *, before: int | None = None) -> str:
    """A channel's preview page: ``posts`` oldest first, as Telegram lists them, and a "load
    more" link to the messages before ``before`` when given."""
    more = (
        '<div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{channel}?before={before}" class="tme_messages_more js-messages_more" '
        f'data-before="{before}"></a></div>'
        if before is not None
        else ""
    )
    history = "".join(message(channel, p) for p in sorted(posts, key=lambda p: p.id))
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{html.escape(title)} – Telegram</title>
<meta property="og:title" content="{html.escape(title)}">
<link rel="canonical" href="https://t.me/s/{channel}"/>
<script src="//telegram.org/js/widget-frame.js"></script></head>
<body class="widget_frame_base tgme_webpreview_body emoji_image nodesktop">
<header class="tgme_header search_collapsed"><div class="tgme_header_search"></div>
<div class="tgme_header_info"><div class="tgme_header_title">{html.escape(title)}</div></div></header>
<main class="tgme_main">
<aside class="tgme_right_column"><section class="tgme_channel_info">
<div class="tgme_channel_info_header">
<i class="tgme_page_photo_image bgcolor0" data-content="K"></i>
<div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(title)}</span></div>
<div class="tgme_channel_info_header_username"><a href="https://t.me/{channel}">@{channel}</a></div></div>
<div class="tgme_channel_info_description">News of the film industry, every day.</div>
<div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">4.5K</span> <span class="counter_type">subscribers</span></div></div>
</section></aside>
<section class="tgme_channel_history js-message_history">{more}{history}</section>
</main></body></html>"""


def contact_page(name: str, title: str | None) -> str:
    """The ``t.me/<name>`` page the preview redirects to when it has no messages to show:
    with the channel's (or person's) title when the name is taken, without when it is not."""
    if title is None:
        body = (
            '<div class="tgme_page"><div class="tgme_page_icon"><i class="tgme_icon_user"></i></div>'
            f'<div class="tgme_page_description">If you have <strong>Telegram</strong>, you can contact '
            f'<a class="tgme_username_link" href="tg://resolve?domain={name}">@{name}</a> right away.</div>'
            '<div class="tgme_page_action"><a class="tgme_action_button_new shine" '
            f'href="tg://resolve?domain={name}">Send Message</a></div></div>'
        )
        head = f"Telegram: Contact @{name}"
    else:
        body = (
            f'<div class="tgme_page"><div class="tgme_page_photo"><img class="tgme_page_photo_image" src="https://cdn.example/c.jpg"></div>'
            f'<div class="tgme_page_title"><span dir="auto">{html.escape(title)}</span></div>'
            '<div class="tgme_page_extra">1 204 subscribers</div>'
            '<div class="tgme_page_description">A closed club.</div>'
            f'<div class="tgme_page_action"><a class="tgme_action_button_new shine" href="tg://resolve?domain={name}">View in Telegram</a></div></div>'
        )
        head = f"Telegram: Contact @{name}"
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{head}</title>
<meta property="og:title" content="{html.escape(title or head)}"></head>
<body class="no_transition"><div class="tgme_background_wrap"></div>
<div class="tgme_page_wrap"><div class="tgme_head_wrap"><div class="tgme_head">
<a href="//telegram.org/" class="tgme_head_brand">Telegram</a></div></div>
<div class="tgme_body_wrap">{body}</div></div></body></html>"""
