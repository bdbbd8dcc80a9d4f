from django.db import migrations

# A frozen copy: later edits to agencies.provinces_data must come with their own migration.
PROVINCES = [
    ("11", "北京市", "京", "", "beijing"),
    ("12", "天津市", "津", "", "tianjin"),
    ("13", "河北省", "冀", "", "hebei"),
    ("14", "山西省", "晋", "", "shanxi"),
    ("15", "内蒙古自治区", "内蒙古", "蒙", "neimenggu"),
    ("21", "辽宁省", "辽", "", "liaoning"),
    ("22", "吉林省", "吉", "", "jilin"),
    ("23", "黑龙江省", "黑", "", "heilongjiang"),
    ("31", "上海市", "沪", "申", "shanghai"),
    ("32", "江苏省", "苏", "", "jiangsu"),
    ("33", "浙江省", "浙", "", "zhejiang"),
    ("34", "安徽省", "皖", "", "anhui"),
    ("35", "福建省", "闽", "", "fujian"),
    ("36", "江西省", "赣", "", "jiangxi"),
    ("37", "山东省", "鲁", "", "shandong"),
    ("41", "河南省", "豫", "", "henan"),
    ("42", "湖北省", "鄂", "", "hubei"),
    ("43", "湖南省", "湘", "", "hunan"),
    ("44", "广东省", "粤", "", "guangdong"),
    ("45", "广西壮族自治区", "桂", "", "guangxi"),
    ("46", "海南省", "琼", "", "hainan"),
    ("50", "重庆市", "渝", "", "chongqing"),
    ("51", "四川省", "川", "蜀", "sichuan"),
    ("52", "贵州省", "黔", "贵", "guizhou"),
    ("53", "云南省", "云", "滇", "yunnan"),
    ("54", "西藏自治区", "藏", "", "xizang"),
    ("61", "陕西省", "陕", "秦", "shaanxi"),
    ("62", "甘肃省", "甘", "陇", "gansu"),
    ("63", "青海省", "青", "", "qinghai"),
    ("64", "宁夏回族自治区", "宁", "", "ningxia"),
    ("65", "新疆维吾尔自治区", "新", "", "xinjiang"),
    ("71", "台湾省", "台", "", "taiwan"),
    ("81", "香港特别行政区", "港", "", "xianggang"),
    ("82", "澳门特别行政区", "澳", "", "aomen"),
]


def load(apps, schema_editor):
    Province = apps.get_model("agencies", "Province")
    for code, name, short, alt, slug in PROVINCES:
        Province.objects.update_or_create(
            code=code,
            defaults={"name": name, "short_name": short, "short_name_alt": alt, "slug": slug},
        )


def unload(apps, schema_editor):
    apps.get_model("agencies", "Province").objects.filter(
        code__in=[p[0] for p in PROVINCES]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("agencies", "0001_initial")]

    operations = [migrations.RunPython(load, unload)]
