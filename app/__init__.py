"""StarPath application factory."""

from pathlib import Path

from flask import Flask

from app.config import build_config


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(build_config(app.instance_path, overrides))
    register_edge(app)
    register_logging(app)
    register_extensions(app)
    register_blueprints(app)
    register_templating(app)
    register_errors(app)
    register_security_headers(app)
    register_commands(app)
    return app


def register_edge(app: Flask) -> None:
    """Ids in URLs within the primary keys' range; JSON bodies within size and depth (app.params).
    First, so the converter is in place for the routes and the JSON check runs before any other hook."""
    from app import params

    params.init_app(app)


def register_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (registers the tables with the metadata)
    from app.extensions import csrf, db, login_manager, migrate

    db.init_app(app)
    from app import plan_versions

    plan_versions.register(db.session)  # bumps a plan's data_version and content_version with its changes
    from app.status import stored_counts

    stored_counts.register(db.session)  # forgets a plan's stored 三色 counts when a 督办 etc. changes
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录。"
    login_manager.session_protection = "strong"
    from app import sessions

    sessions.init_app(app)  # the user loader checks the session version; time limits; no-store


def register_logging(app: Flask) -> None:
    from app import logging_setup

    logging_setup.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.bulletins import bp as bulletins_bp
    from app.communities import bp as communities_bp
    from app.dashboard import bp as dashboard_bp
    from app.indicators import bp as indicators_bp
    from app.mywork import bp as mywork_bp
    from app.notify import bp as notify_bp
    from app.packs import bp as packs_bp
    from app.plans import bp as plans_bp
    from app.review import bp as review_bp
    from app.stars import bp as stars_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(mywork_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(review_bp)
    app.register_blueprint(indicators_bp)
    app.register_blueprint(stars_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(notify_bp)
    app.register_blueprint(packs_bp)
    app.register_blueprint(bulletins_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(communities_bp)
    from app import api

    api.init_app(app)  # /api/v1: flask-smorest blueprints, the document and its docs page


def register_templating(app: Flask) -> None:
    from app import formatting

    formatting.init_app(app)


def register_errors(app: Flask) -> None:
    from app import errors

    errors.init_app(app)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def set_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
        )
        return response


def register_commands(app: Flask) -> None:
    from app.cli import register
    from app.forecasting.commands import attainment_command, forecast_command
    from app.forecasting.score_command import score_command
    from workflows.reminders_cli import reminders_cli

    register(app)
    app.cli.add_command(reminders_cli)
    app.cli.add_command(score_command)
    app.cli.add_command(forecast_command)
    app.cli.add_command(attainment_command)
