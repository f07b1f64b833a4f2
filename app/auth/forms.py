from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from app.forms_base import Form as FlaskForm


class LoginForm(FlaskForm):
    username = StringField("用户名", validators=[DataRequired("请输入用户名。"), Length(max=64)])
    password = PasswordField("密码", validators=[DataRequired("请输入密码。")])
