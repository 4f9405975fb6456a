FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HELPDESK_VAR_DIR=/var/lib/helpdesk

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/helpdesk helpdesk \
    && mkdir -p /var/lib/helpdesk && chown helpdesk /var/lib/helpdesk

COPY pyproject.toml README.md ./
COPY helpdesk ./helpdesk
COPY departments ./departments
COPY tickets ./tickets
RUN pip install .
COPY manage.py ./
COPY templates ./templates
COPY static ./static

# collectstatic needs settings that import cleanly; the real key comes from the environment.
RUN DJANGO_DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0 && chown -R helpdesk /var/lib/helpdesk

USER helpdesk
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "helpdesk.wsgi:application"]
