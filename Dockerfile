FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HELPDESK_VAR_DIR=/var/lib/helpdesk

WORKDIR /app
RUN useradd --system --create-home --home-dir /home/helpdesk helpdesk \
    && mkdir -p /var/lib/helpdesk /var/lib/helpdesk-attachments \
    && chown helpdesk /var/lib/helpdesk /var/lib/helpdesk-attachments

# The pinned dependencies in a layer of their own, read from pyproject.toml: a change to the code
# does not download them again.
COPY pyproject.toml ./
# python-ldap (directory sign-in) builds against OpenLDAP: its headers and a compiler are there
# for the build only, the libraries stay.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libldap-2.5-0 libsasl2-2 \
    && apt-get install -y --no-install-recommends gcc libc6-dev libldap2-dev libsasl2-dev \
    && python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt && rm /tmp/requirements.txt \
    && apt-get purge -y --auto-remove gcc libc6-dev libldap2-dev libsasl2-dev \
    && rm -rf /var/lib/apt/lists/*

# The project as a whole: .dockerignore leaves out version control, local data, caches, the
# tests and the benchmarks. The processes run from /app, beside manage.py, templates/ and static/.
COPY . .
RUN pip install --no-deps . && rm -rf build ./*.egg-info

# collectstatic needs settings that import cleanly; the real key comes from the environment.
RUN DJANGO_DEBUG=0 SECRET_KEY=collectstatic-only ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput -v0 && chown -R helpdesk /var/lib/helpdesk

USER helpdesk
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "helpdesk.wsgi:application"]
