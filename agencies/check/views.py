"""/check/: the message check as a page, without JavaScript.

The form POSTs, so the pasted text never appears in a URL, a browser history
entry or an access log; the answer is the same page with the reading below
the form. Every answer of this URL is marked no-store, so that no cache keeps
it, by portal.middleware.NoStoreMiddleware (which also sees the rate limits'
429 and Django's 405 and 400, made before or around this view).
"""

from django import forms
from django.shortcuts import render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters

from . import inputs, reading


class CalledAtField(forms.TimeField):
    # HH:MM from the time box, or an ISO 8601 date-time with offset from a
    # script, read as the API reads it (inputs.called_at).
    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            return inputs.called_at(str(value))
        except ValueError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class CheckForm(forms.Form):
    # No max_length: the browser would then cut a longer paste without a
    # word; the length is checked here and said on the page instead.
    text = forms.CharField(
        label=_("收到的短信、微信消息或通话记录全文"),
        widget=forms.Textarea(attrs={"rows": 8, "autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "required": _("请先粘贴收到的消息全文。"),
            # The code of CharField's own ProhibitNullCharactersValidator.
            "null_characters_not_allowed": inputs.NUL_IN_TEXT,
        },
        strip=False,
    )
    called_at = CalledAtField(
        label=_("来电或收到消息的时间（可不填）"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        error_messages={
            "invalid": _(
                "时间请写成 23:30 这样的形式，"
                "或带时区的 ISO 8601 时间，如 2026-03-05T23:30:00+08:00。"
            )
        },
    )

    def clean_text(self):
        text = self.cleaned_data["text"]
        if not text.strip():
            raise forms.ValidationError(_("请先粘贴收到的消息全文。"), code="required")
        if len(text) > reading.MAX_TEXT:
            raise forms.ValidationError(
                _("内容太长：最多 %(limit)s 字，这里是 %(length)s 字。请只粘贴与催收有关的部分。"),
                code="max_length",
                params={"limit": reading.MAX_TEXT, "length": len(text)},
            )
        return text


# csrf_exempt: the check changes nothing on the server and the site sets no
# cookies, so there is nothing a forged request could do (and no cookie to
# carry a token). sensitive_post_parameters: should the view ever fail, the
# error report must not contain the pasted text.
@method_decorator([csrf_exempt, sensitive_post_parameters("text")], name="dispatch")
class CheckView(View):
    template_name = "agencies/check.html"

    def get(self, request):
        return render(request, self.template_name, {"form": CheckForm(), "limit": reading.MAX_TEXT})

    def post(self, request):
        form = CheckForm(request.POST)
        context = {"form": form, "limit": reading.MAX_TEXT}
        status = 200
        if form.is_valid():
            context["reading"] = reading.read(
                form.cleaned_data["text"], form.cleaned_data["called_at"]
            )
        elif form.has_error("text", "max_length"):
            status = 413
        else:
            status = 400
        return render(request, self.template_name, context, status=status)
